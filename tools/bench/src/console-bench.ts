import { PubSub } from "@google-cloud/pubsub";
import {
  chromiumPath,
  type RunningStack,
  setCustomClaims,
  signIn,
  signUp,
  startScratchStack,
} from "@syncstack/local-stack";
import { Publisher, statsTick } from "@syncstack/shared";
import { type Browser, chromium, type Page } from "playwright-core";
import { fmt, percentile } from "./measure.ts";

const projectId = "demo-bench-console";
const password = "secret-password";
/** Loads of each page per round; rounds alternate the pages so drift hits all alike. */
const loadsPerRound = Number(process.env.BENCH_LOADS ?? 5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
/** The target: each page with its data on screen within a second on the local stack. */
const targetMs = 1_000;

/** Each page and what shows that its data is on screen. */
const pages: Record<string, string> = {
  "/": '[data-testid="graph-topic"]',
  "/dead-letters": '[data-testid="dead-letter"], [data-testid="no-dead-letters"]',
  "/analytics": '[data-testid="latest-figures"]',
  "/data": '[data-testid="document"]',
  "/backups": '[data-testid="backup"]',
  "/traces": '[data-testid="recent-trace"]',
};
/** The same app signed out: its bundle, Firebase's and the sign-in form, and no data. */
const baseline = { path: "/ (signed out)", selector: '[data-testid="sign-in"]' };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function timeLoad(page: Page, url: string, selector: string): Promise<number> {
  const started = performance.now();
  await page.goto(url);
  await page.locator(selector).first().waitFor({ timeout: 30_000 });
  return performance.now() - started;
}

/** Data on every page: documents, a tombstone, two stats ticks, a completed backup, traces. */
async function seed(stack: RunningStack, adminToken: string): Promise<void> {
  const alice = await signUp(stack.file.auth, "alice@example.com", password);
  const call = async (url: string, method: string, token: string, body?: unknown) => {
    const answer = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!answer.ok)
      throw new Error(`${method} ${url} answered ${answer.status}: ${await answer.text()}`);
    return answer.json() as Promise<Record<string, unknown>>;
  };
  const sync = stack.file.services.sync;
  for (let i = 0; i < 20; i++) {
    await call(`${sync}/v1/sync`, "POST", alice.idToken, {
      collection: "shared_notes",
      document: `n${i}`,
      data: { title: `note ${i}` },
    });
  }
  await call(`${sync}/v1/documents/shared_notes/n0`, "DELETE", alice.idToken);
  const consoleUrl = stack.file.console ?? "";
  await call(`${consoleUrl}/v1/console/backups/config`, "PATCH", adminToken, {
    enabled: true,
    collections: ["shared_notes"],
  });
  const { id } = await call(`${consoleUrl}/v1/console/backups`, "POST", adminToken, {});
  const deadline = Date.now() + 60_000;
  for (;;) {
    // 404 until the backup's message has been handled and its record written.
    const answer = await fetch(`${consoleUrl}/v1/console/backups/${id}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    const backup = answer.ok
      ? ((await answer.json()) as { status: string })
      : { status: "requested" };
    if (backup.status === "completed") break;
    if (Date.now() > deadline) throw new Error(`backup ${id} is still ${backup.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const pubsub = new PubSub({ projectId, apiEndpoint: stack.file.pubsub, emulatorMode: true });
  const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
  for (const minutesAgo of [2, 1]) {
    await publisher.publish(statsTick, {
      tick_at: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    });
  }
  await publisher.close();
  await pubsub.close();
  for (;;) {
    const stats = await call(`${consoleUrl}/v1/console/stats`, "GET", adminToken);
    if (stats.latest) break;
    if (Date.now() > deadline) throw new Error("no stats tick came through");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * `./syncstack bench console`: a whole local stack of its own (free ports, the console with
 * the app from source as `./syncstack up` serves it) and Debian's Chromium. Each page's time
 * from `goto` to its data on screen, signed in as an admin, beside the same app signed out
 * (the sign-in form: same server, same bundle, no data), alternated in each round; medians.
 */
export async function benchConsole(): Promise<string> {
  const scratch = await startScratchStack({ projectId, parts: ["telemetry", "console"] });
  const { stack } = scratch;
  let browser: Browser | undefined;
  try {
    const ops = await signUp(stack.file.auth, "ops@example.com", password);
    await setCustomClaims(stack.file.auth, ops.uid, { admin: true });
    const adminToken = (await signIn(stack.file.auth, "ops@example.com", password)).idToken;
    await seed(stack, adminToken);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run"],
    });
    const base = stack.file.console ?? "";
    const admin = await (
      await browser.newContext({ viewport: { width: 1100, height: 800 } })
    ).newPage();
    await admin.goto(base);
    await admin.getByTestId("email").fill("ops@example.com");
    await admin.getByTestId("password").fill(password);
    await admin.getByTestId("sign-in").click();
    await admin.getByTestId("live-state").getByText("live").waitFor({ timeout: 30_000 });
    const anonymous = await (
      await browser.newContext({ viewport: { width: 1100, height: 800 } })
    ).newPage();
    // Warm: Vite transforms each module on its first request, and the first trace list waits
    // for the collector's first export.
    await timeLoad(anonymous, base, baseline.selector);
    for (const [path, selector] of Object.entries(pages))
      await timeLoad(admin, `${base}${path}`, selector);

    const times: Record<string, number[]> = { [baseline.path]: [] };
    for (const path of Object.keys(pages)) times[path] = [];
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < loadsPerRound; i++) {
        times[baseline.path]?.push(await timeLoad(anonymous, base, baseline.selector));
        for (const [path, selector] of Object.entries(pages)) {
          times[path]?.push(await timeLoad(admin, `${base}${path}`, selector));
        }
      }
    }
    const baselineMs = median(times[baseline.path] ?? []);
    const lines = [
      `console pages: goto to data on screen, Chromium, ${rounds} rounds x ${loadsPerRound} loads, medians (target < ${targetMs} ms)`,
      "page                 median ms   p90 ms   x baseline   target",
      `${baseline.path.padEnd(20)} ${fmt(baselineMs).padStart(9)} ${fmt(percentile90(times[baseline.path] ?? [])).padStart(8)}        1.00   (baseline)`,
    ];
    for (const path of Object.keys(pages)) {
      const ms = median(times[path] ?? []);
      lines.push(
        `${path.padEnd(20)} ${fmt(ms).padStart(9)} ${fmt(percentile90(times[path] ?? [])).padStart(8)} ${(ms / baselineMs).toFixed(2).padStart(11)}   ${ms < targetMs ? "met" : "MISSED"}`,
      );
    }
    return lines.join("\n");
  } finally {
    await browser?.close();
    await scratch.stop();
  }
}

function percentile90(values: number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    0.9,
  );
}
