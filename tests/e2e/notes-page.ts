import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import type { Locator, Page } from "playwright-core";

/** Where the browser tests keep their screenshots (gitignored). */
export const screenshotDir = join(repoRoot, "test-results", "notes-app");

/** A note as a page shows it. */
export interface ShownNote {
  id: string;
  title: string;
  body: string;
}

/** The notes app in one user's page, driven the way a user does: typing and clicking. */
export class NotesPage {
  readonly page: Page;
  readonly name: string;

  constructor(page: Page, name: string) {
    this.page = page;
    this.name = name;
  }

  card(id: string): Locator {
    return this.page.locator(`[data-testid=note][data-id="${id}"]`);
  }

  async signUp(email: string, password: string): Promise<string> {
    await this.page.getByTestId("email").fill(email);
    await this.page.getByTestId("password").fill(password);
    await this.page.getByTestId("sign-up").click();
    return (await this.page.getByTestId("my-uid").textContent({ timeout: 30_000 })) ?? "";
  }

  /** Adds a note and returns its id, once its card is shown. */
  async add(title: string, body: string): Promise<string> {
    await this.page.getByTestId("new-title").fill(title);
    await this.page.getByTestId("new-body").fill(body);
    await this.page.getByTestId("add").click();
    const card = this.page
      .getByTestId("my-notes")
      .getByTestId("note")
      .filter({ has: this.page.getByTestId("note-title").getByText(title, { exact: true }) });
    return (await card.first().getAttribute("data-id")) ?? "";
  }

  async edit(id: string, title: string, body: string): Promise<void> {
    await this.card(id).getByTestId("edit").click();
    await this.card(id).getByTestId("edit-title").fill(title);
    await this.card(id).getByTestId("edit-body").fill(body);
    await this.card(id).getByTestId("save").click();
    await this.card(id).getByTestId("note-title").getByText(title, { exact: true }).waitFor();
  }

  async share(id: string, uid: string): Promise<void> {
    await this.card(id).getByTestId("share-uid").fill(uid);
    await this.card(id).getByTestId("share").click();
    await this.card(id).getByTestId("members").getByText(uid).waitFor();
  }

  async delete(id: string): Promise<void> {
    await this.card(id).getByTestId("delete").click();
    await this.card(id).waitFor({ state: "detached" });
  }

  async setOnline(online: boolean): Promise<void> {
    await this.page.getByTestId("online").setChecked(online);
  }

  /** The number of changes the status says are waiting. */
  async pending(): Promise<number> {
    return Number(await this.page.getByTestId("status").getAttribute("data-pending"));
  }

  /** Waits until the outbox is empty (everything acknowledged by the server). */
  async settled(timeoutMs = 30_000): Promise<void> {
    await this.page
      .locator('[data-testid=status][data-pending="0"]:not([data-state=offline])')
      .waitFor({ timeout: timeoutMs });
  }

  /** The notes of one list (`my-notes` or `shared-notes`), in page order. */
  async notes(list: "my-notes" | "shared-notes"): Promise<ShownNote[]> {
    return this.page.getByTestId(list).evaluate((element) =>
      [...element.querySelectorAll("[data-testid=note]")].map((card) => ({
        id: card.getAttribute("data-id") ?? "",
        title: card.querySelector("[data-testid=note-title]")?.textContent ?? "",
        body: card.querySelector("[data-testid=note-body]")?.textContent ?? "",
      })),
    );
  }

  async screenshot(step: string): Promise<void> {
    await mkdir(screenshotDir, { recursive: true });
    await this.page.screenshot({
      path: join(screenshotDir, `${step}-${this.name}.png`),
      fullPage: true,
    });
  }
}
