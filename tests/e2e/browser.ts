import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromiumPath } from "@syncstack/local-stack";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium as the tests run it: headless, nothing fetched from outside, a fresh profile. */
export const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A browser profile of its own (one user's IndexedDB, cookies and Firebase session). */
export interface BrowserUser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches Chromium with a fresh `--user-data-dir` (a persistent context: the profile survives
 * reloads like a real one) sized like a laptop window.
 */
export async function launchUser(): Promise<BrowserUser> {
  const profile = await mkdtemp(join(tmpdir(), "syncstack-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    // Playwright adds --headless and --no-sandbox itself as well; twice is harmless.
    headless: true,
    args: chromiumFlags,
    viewport: { width: 1100, height: 800 },
  });
  return {
    context,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
