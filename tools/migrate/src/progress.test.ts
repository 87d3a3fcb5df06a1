import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatDuration, formatProgress, startProgress } from "./progress.ts";

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, isTTY, write: (text: string) => writes.push(text) };
}

describe("progress", () => {
  test("on a terminal redraws one line in place with a bar, count, rate and ETA", async () => {
    let now = 0;
    const out = stream(true);
    const progress = startProgress(out, {
      label: "a -> b",
      total: 1_000,
      done: 0,
      now: () => now,
      intervalMs: 5,
    });
    now = 2_000;
    progress.update(400);
    await new Promise((resolve) => setTimeout(resolve, 20));
    progress.finish();

    assert.ok(out.writes.length >= 3, "drawn at the start, on the timer and at the end");
    assert.ok(
      out.writes.slice(0, -1).every((text) => text.startsWith("\r") && text.endsWith("\x1b[K")),
    );
    assert.equal(out.writes.at(-1), "\n");
    assert.equal(
      out.writes.at(-2),
      "\ra -> b [##########..............] 400/1,000 (40.0%) 200 docs/s ETA 3s\x1b[K",
    );
  });

  test("elsewhere writes plain lines on an interval and a last one at the end", async () => {
    let now = 0;
    const out = stream(false);
    const progress = startProgress(out, {
      label: "a -> b",
      total: 50,
      done: 10,
      now: () => now,
      intervalMs: 5,
    });
    now = 1_000;
    progress.update(30);
    await new Promise((resolve) => setTimeout(resolve, 20));
    now = 2_000;
    progress.update(50);
    progress.finish();

    assert.ok(out.writes.length >= 2);
    assert.ok(out.writes.every((text) => !text.includes("\r") && text.endsWith("\n")));
    assert.equal(out.writes.at(-1), "a -> b 50/50 (100.0%) 20 docs/s ETA 0s\n");
  });

  test("the rate leaves out documents done before a resume", () => {
    let now = 0;
    const out = stream(false);
    const progress = startProgress(out, {
      label: "x",
      total: 10_000,
      done: 9_000,
      now: () => now,
      intervalMs: 60_000,
    });
    now = 10_000;
    progress.update(9_500);
    progress.finish();
    assert.equal(out.writes.at(-1), "x 9,500/10,000 (95.0%) 50 docs/s ETA 10s\n");
  });

  test("shows the count alone until the total is known", () => {
    const out = stream(false);
    const progress = startProgress(out, { label: "x", done: 0, now: () => 0, intervalMs: 60_000 });
    progress.update(5);
    progress.setTotal(20);
    progress.finish();
    assert.equal(out.writes.at(-1), "x 5/20 (25.0%) 0 docs/s ETA ?\n");
  });

  test("formats durations and an unknown rate", () => {
    assert.deepEqual([0, 59.4, 75, 3_725].map(formatDuration), ["0s", "59s", "1m15s", "1h02m"]);
    assert.equal(formatProgress("x", 0, 10, 0, false), "x 0/10 (0.0%) 0 docs/s ETA ?");
    assert.equal(formatProgress("x", 0, 0, 0, false), "x 0/0 (100.0%) 0 docs/s ETA 0s");
    assert.equal(
      formatProgress("x", 1_200, undefined, 99.6, true),
      "x 1,200 (counting) 100 docs/s",
    );
  });
});
