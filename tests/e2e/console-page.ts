import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import type { Page } from "playwright-core";

/** Where the console's browser tests keep their screenshots (gitignored). */
export const consoleScreenshotDir = join(repoRoot, "test-results", "console");

/** The ops console as one browser page sees it: sign-in, navigation, and each page's parts. */
export class ConsolePage {
  readonly page: Page;
  readonly baseUrl: string;

  constructor(page: Page, baseUrl: string) {
    this.page = page;
    this.baseUrl = baseUrl;
  }

  async signIn(email: string, password: string): Promise<void> {
    await this.page.goto(this.baseUrl);
    await this.page.getByTestId("email").fill(email);
    await this.page.getByTestId("password").fill(password);
    await this.page.getByTestId("sign-in").click();
  }

  /** Opens a page through the navigation (no reload: the live stream keeps running). */
  async open(
    name: "topology" | "dead-letters" | "analytics" | "data" | "backups" | "traces",
  ): Promise<void> {
    await this.page.getByTestId(`nav-${name}`).click();
  }

  /** A topic's dead-letter count as the topology graph shows it. */
  async topicLabel(topic: string): Promise<string> {
    return (
      (await this.page
        .locator(`[data-testid="graph-topic"][data-topic="${topic}"]`)
        .textContent()) ?? ""
    );
  }

  deadLetter(id: string) {
    return this.page.locator(`[data-testid="dead-letter"][data-id="${id}"]`);
  }

  async screenshot(step: string): Promise<void> {
    await mkdir(consoleScreenshotDir, { recursive: true });
    await this.page.screenshot({ path: join(consoleScreenshotDir, `${step}.png`), fullPage: true });
  }
}
