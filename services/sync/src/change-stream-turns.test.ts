import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "@syncstack/shared";
import { ChangeStreams } from "./change-stream.ts";
import { LiveChanges } from "./live-changes.ts";

const logger = createLogger({ projectId: "demo-test", level: "ERROR", write: () => {} });

/** Streams whose catch-ups only the turns matter to (no listener is started). */
function streams(maxCatchUps: number, deadlineMs: number): ChangeStreams {
  return new ChangeStreams(new LiveChanges(logger, { share: true }), logger, {
    heartbeatMs: 1_000,
    maxLifetimeMs: 10_000,
    maxConnections: 10,
    maxBufferBytes: 1_024,
    settleMs: 10_000,
    deadlineMs,
    maxCatchUps,
  });
}

/** A catch-up that runs until `finish` is called, noting when it started. */
function held(order: string[], name: string) {
  let finish = () => {};
  const work = () =>
    new Promise<void>((resolve) => {
      order.push(name);
      finish = resolve;
    });
  return { work, finish: () => finish() };
}

test("catch-ups past the cap wait and start first come, first served", async () => {
  const instance = streams(2, 60_000);
  const order: string[] = [];
  const catchUps = ["a", "b", "c", "d"].map((name) => held(order, name));
  const [a, b, c, d] = catchUps;
  const running = catchUps.map((catchUp) => instance.catchUp(catchUp.work));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ["a", "b"]);
  assert.deepEqual(instance.catchUps, {
    running: 2,
    waiting: 2,
    peak: { running: 2, waiting: 2 },
    fromListener: 0,
  });
  b?.finish();
  await running[1];
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ["a", "b", "c"], "b's turn went to c, the first waiting");
  a?.finish();
  c?.finish();
  await new Promise((resolve) => setImmediate(resolve));
  d?.finish();
  await Promise.all(running);
  assert.deepEqual(order, ["a", "b", "c", "d"]);
  assert.deepEqual(instance.catchUps, {
    running: 0,
    waiting: 0,
    peak: { running: 2, waiting: 2 },
    fromListener: 0,
  });
});

test("a catch-up still running at the deadline gives its turn to the next", async () => {
  const instance = streams(1, 50);
  const order: string[] = [];
  const slow = held(order, "slow");
  const first = instance.catchUp(slow.work);
  const started = performance.now();
  await instance.catchUp(async () => {
    order.push("next");
  });
  assert.ok(performance.now() - started >= 45, "the next waited for the deadline");
  assert.deepEqual(order, ["slow", "next"]);
  slow.finish();
  await first;
  assert.deepEqual(instance.catchUps.running, 0);
});

test("a failed catch-up frees its turn", async () => {
  const instance = streams(1, 60_000);
  await assert.rejects(
    instance.catchUp(async () => {
      throw new Error("deadline exceeded");
    }),
    /deadline exceeded/,
  );
  let ran = false;
  await instance.catchUp(async () => {
    ran = true;
  });
  assert.ok(ran);
  assert.equal(instance.catchUps.running, 0);
});
