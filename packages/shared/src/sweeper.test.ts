import assert from "node:assert/strict";
import { test } from "node:test";
import { type Schedule, startSweeper } from "./sweeper.ts";

/** A schedule ticked by hand, recording whether it was cancelled. */
function manualSchedule(): { schedule: Schedule; tick(): void; cancelled(): boolean } {
  let tick: (() => void) | undefined;
  let cancelled = false;
  return {
    schedule: (run) => {
      tick = run;
      return () => {
        cancelled = true;
      };
    },
    tick: () => tick?.(),
    cancelled: () => cancelled,
  };
}

/** A run whose calls finish only when the test says so. */
function controlledRun() {
  const pending: { resolve(): void; reject(error: unknown): void }[] = [];
  return {
    run: () =>
      new Promise<void>((resolve, reject) => {
        pending.push({ resolve, reject });
      }),
    calls: () => pending.length,
    finish: async (index: number, error?: unknown) => {
      const call = pending[index];
      assert.ok(call, `run ${index} was called`);
      if (error === undefined) call.resolve();
      else call.reject(error);
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

test("runs at once and on each tick, one run at a time, and goes on after a failed run", async () => {
  const clock = manualSchedule();
  const work = controlledRun();
  const errors: unknown[] = [];
  const stop = startSweeper(work.run, {
    intervalMs: 1_000,
    onError: (error) => errors.push(error),
    schedule: clock.schedule,
  });
  assert.equal(work.calls(), 1, "the first run starts with the loop");
  clock.tick();
  assert.equal(work.calls(), 1, "a tick during a run is skipped");
  await work.finish(0, new Error("emulator down"));
  assert.deepEqual(
    errors.map((error) => (error as Error).message),
    ["emulator down"],
  );
  clock.tick();
  assert.equal(work.calls(), 2, "the next tick runs again after a failure");
  await work.finish(1);
  clock.tick();
  assert.equal(work.calls(), 3);
  await work.finish(2);
  await stop();
  assert.equal(clock.cancelled(), true);
});

test("stop cancels the ticks and waits for the run in progress", async () => {
  const clock = manualSchedule();
  const work = controlledRun();
  const stop = startSweeper(work.run, {
    intervalMs: 1_000,
    onError: (error) => assert.fail(String(error)),
    schedule: clock.schedule,
  });
  let stopped = false;
  const stopping = stop().then(() => {
    stopped = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(stopped, false, "stop waits for the run");
  clock.tick();
  assert.equal(work.calls(), 1, "no run starts once stopping");
  await work.finish(0);
  await stopping;
  assert.equal(stopped, true);
});

test("the default schedule ticks on Node's timer", async () => {
  let runs = 0;
  const stop = startSweeper(
    async () => {
      runs++;
    },
    { intervalMs: 5, onError: (error) => assert.fail(String(error)) },
  );
  const deadline = Date.now() + 5_000;
  while (runs < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  await stop();
  const after = runs;
  assert.ok(after >= 3, `ran ${after} times`);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(runs, after, "no run after stop");
});
