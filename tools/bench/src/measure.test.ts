import assert from "node:assert/strict";
import { test } from "node:test";
import { cyclePerWorker, medianRound, percentile, runPhase } from "./measure.ts";

test("medianRound reports the round with the median ratio and every ratio in run order", () => {
  const rounds = [{ r: 0.7 }, { r: 0.5 }, { r: 0.61 }];
  const { median, ratio, all } = medianRound(rounds, (round) => round.r);
  assert.equal(median, rounds[2]);
  assert.equal(ratio, 0.61);
  assert.equal(all, "0.70, 0.50, 0.61");
  assert.deepEqual(
    rounds,
    [{ r: 0.7 }, { r: 0.5 }, { r: 0.61 }],
    "the rounds are left as they ran",
  );
  assert.throws(() => medianRound([], () => 1), /no rounds/);
});

test("percentile picks the sample below which the fraction falls", () => {
  const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(sorted, 0.5), 5);
  assert.equal(percentile(sorted, 0.99), 10);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});

test("runPhase gives each call a unique sequence number and its worker's index", async () => {
  const calls: { sequence: number; worker: number }[] = [];
  const result = await runPhase(
    3,
    0.02,
    async (sequence, worker) => {
      calls.push({ sequence, worker });
      await new Promise((resolve) => setTimeout(resolve, 1));
    },
    0,
  );
  assert.deepEqual(new Set(calls.map((call) => call.worker)), new Set([0, 1, 2]));
  assert.equal(new Set(calls.map((call) => call.sequence)).size, calls.length);
  assert.equal(result.requests + result.errors, calls.length);
});

test("cyclePerWorker cycles through each worker's items on its own", () => {
  const next = cyclePerWorker(2, 3);
  assert.deepEqual([next(0), next(0), next(1), next(0), next(0), next(1)], [0, 1, 0, 2, 0, 1]);
});
