import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, mock, test } from "node:test";
import { type SchedulerLogEntry, startScheduler } from "./scheduler.ts";

const start = Date.parse("2026-01-01T00:00:30Z");

/** Lets the promise callbacks queued by a run settle. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("startScheduler", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout", "Date"], now: start }));
  afterEach(() => mock.timers.reset());

  test("runs a job every minute with its scheduled time and logs each run", async () => {
    const runs: string[] = [];
    const logs: SchedulerLogEntry[] = [];
    const scheduler = startScheduler(
      [
        {
          name: "tick",
          cron: "* * * * *",
          timeZone: "UTC",
          run: async (at) => void runs.push(at.toISOString()),
        },
      ],
      { log: (entry) => logs.push(entry) },
    );
    assert.deepEqual(scheduler.next(), [{ name: "tick", at: new Date("2026-01-01T00:01:00Z") }]);
    mock.timers.tick(29_999);
    await settle();
    assert.deepEqual(runs, []);
    mock.timers.tick(1);
    await settle();
    mock.timers.tick(60_000);
    await settle();
    scheduler.stop();
    mock.timers.tick(600_000);
    await settle();
    assert.deepEqual(runs, ["2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z"]);
    assert.deepEqual(
      logs.map((entry) => [entry.severity, entry.message, entry.scheduledAt]),
      [
        ["INFO", "job tick ran", "2026-01-01T00:01:00.000Z"],
        ["INFO", "job tick ran", "2026-01-01T00:02:00.000Z"],
      ],
    );
  });

  test("a failing run is logged and the job keeps its schedule", async () => {
    let calls = 0;
    const logs: SchedulerLogEntry[] = [];
    const scheduler = startScheduler(
      [
        {
          name: "flaky",
          cron: "*/5 * * * *",
          timeZone: "UTC",
          run: async () => {
            calls += 1;
            if (calls === 1) throw new Error("backend down");
          },
        },
      ],
      { log: (entry) => logs.push(entry) },
    );
    for (let i = 0; i < 10; i++) {
      mock.timers.tick(60_000);
      await settle();
    }
    scheduler.stop();
    assert.equal(calls, 2);
    assert.equal(logs[0]?.severity, "ERROR");
    assert.equal(logs[0]?.message, "job flaky failed: backend down");
    assert.equal(logs[0]?.job, "flaky");
    assert.equal(logs[1]?.severity, "INFO");
    assert.equal(logs[1]?.scheduledAt, "2026-01-01T00:10:00.000Z");
  });

  test("a run more than 24.8 days away waits through re-armed timers", async () => {
    const runs: string[] = [];
    const scheduler = startScheduler(
      [
        {
          name: "yearly",
          cron: "0 0 1 1 *",
          timeZone: "UTC",
          run: async (at) => void runs.push(at.toISOString()),
        },
      ],
      { log: () => {} },
    );
    assert.deepEqual(scheduler.next(), [{ name: "yearly", at: new Date("2027-01-01T00:00:00Z") }]);
    mock.timers.tick(2 ** 31 - 1);
    await settle();
    assert.deepEqual(runs, []);
    mock.timers.tick(Date.parse("2027-01-01T00:00:00Z") - Date.now());
    await settle();
    scheduler.stop();
    assert.deepEqual(runs, ["2027-01-01T00:00:00.000Z"]);
  });

  test("skips a run while the previous one is still going", async () => {
    const logs: SchedulerLogEntry[] = [];
    let finish = () => {};
    const scheduler = startScheduler(
      [
        {
          name: "slow",
          cron: "* * * * *",
          timeZone: "UTC",
          run: () => new Promise<void>((resolve) => (finish = resolve)),
        },
      ],
      { log: (entry) => logs.push(entry) },
    );
    mock.timers.tick(30_000);
    mock.timers.tick(60_000);
    finish();
    await settle();
    scheduler.stop();
    assert.deepEqual(
      logs.map((entry) => entry.severity),
      ["WARNING", "INFO"],
    );
  });

  test("rejects a bad expression or time zone, naming the job", () => {
    const job = { name: "bad", timeZone: "UTC", run: async () => {} };
    assert.throws(
      () => startScheduler([{ ...job, cron: "0 24 * * *" }], { log: () => {} }),
      /job bad: cron "0 24 \* \* \*": .*hour: 24/,
    );
    assert.throws(
      () =>
        startScheduler([{ ...job, cron: "0 0 * * *", timeZone: "Mars/Olympus" }], {
          log: () => {},
        }),
      /job bad: .*time zone/i,
    );
  });
});
