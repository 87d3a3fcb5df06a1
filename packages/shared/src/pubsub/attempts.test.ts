import assert from "node:assert/strict";
import { test } from "node:test";
import { AttemptTracker, backoffMs } from "./attempts.ts";

const policy = { minBackoffSeconds: 2, maxBackoffSeconds: 10, maxDeliveryAttempts: 5 };

test("backoff doubles from the minimum up to the maximum", () => {
  assert.deepEqual(
    [1, 2, 3, 4].map((attempt) => backoffMs(policy, attempt)),
    [2_000, 4_000, 8_000, 10_000],
  );
});

test("counts attempts and holds redeliveries back until the backoff elapsed", () => {
  let now = 0;
  const tracker = new AttemptTracker({ now: () => now });
  assert.deepEqual(tracker.begin("m1"), { attempt: 1, waitMs: 0 });
  tracker.failed("m1", 1, policy);
  now = 500;
  assert.deepEqual(tracker.begin("m1"), { attempt: 2, waitMs: 1_500 });
  now = 2_000;
  assert.deepEqual(tracker.begin("m1"), { attempt: 2, waitMs: 0 });
  tracker.settled("m1");
  assert.deepEqual(tracker.begin("m1"), { attempt: 1, waitMs: 0 });
});

test("forgets the oldest failure beyond its capacity", () => {
  const tracker = new AttemptTracker({ capacity: 2, now: () => 0 });
  for (const key of ["a", "b", "c"]) tracker.failed(key, 1, policy);
  assert.equal(tracker.begin("a").attempt, 1);
  assert.equal(tracker.begin("c").attempt, 2);
});
