import { setTimeout as sleep } from "node:timers/promises";

/** Polls `url` until it answers 200 (and `body` when given), or fails naming what it waited for. */
export async function waitForHttp(
  what: string,
  url: string,
  options: { timeoutMs?: number; body?: string } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      const text = await response.text();
      if (response.status === 200 && (options.body === undefined || text.trim() === options.body))
        return;
    } catch {
      // Not listening yet.
    }
    await sleep(250);
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs / 1_000} s`);
}
