import assert from "node:assert/strict";
import { test } from "node:test";
import { RampUp } from "./ramp-up.ts";

test("the ramp-up allows 500 writes/s, 50% more every 5 minutes, shared by concurrent commits", async () => {
  let now = 0;
  const rampUp = new RampUp(() => now);
  assert.equal(rampUp.rate(), 500);
  now = 300_000;
  assert.equal(rampUp.rate(), 750);
  now = 600_000;
  assert.equal(rampUp.rate(), 1_125);
  // At 1,125/s, 1,125 writes take the next second: a second commit of one waits it out.
  now = 600_000;
  const started = performance.now();
  await rampUp.acquire(1_125);
  assert.ok(performance.now() - started < 50, "the first commit goes at once");
  const waiting = rampUp.acquire(1);
  now = 600_000;
  const late = await Promise.race([
    waiting.then(() => "released"),
    new Promise((resolve) => setTimeout(() => resolve("waiting"), 200)),
  ]);
  assert.equal(late, "waiting", "the second commit waits for the first one's second");
});
