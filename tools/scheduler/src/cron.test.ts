import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cronSchedule } from "./cron.ts";

const next = (expr: string, after: string, timeZone = "UTC") =>
  cronSchedule(expr, timeZone).next(new Date(after)).toISOString();

describe("next run", () => {
  test("every 6 hours: the next multiple of 6, strictly after", () => {
    assert.equal(next("0 */6 * * *", "2026-01-01T05:59:00Z"), "2026-01-01T06:00:00.000Z");
    assert.equal(next("0 */6 * * *", "2026-01-01T06:00:00Z"), "2026-01-01T12:00:00.000Z");
    assert.equal(next("0 */6 * * *", "2026-01-01T05:59:59.999Z"), "2026-01-01T06:00:00.000Z");
    assert.equal(next("0 */6 * * *", "2026-01-01T18:00:00Z"), "2026-01-02T00:00:00.000Z");
  });

  test("02:00 daily in UTC and in Europe/Berlin, winter and summer", () => {
    assert.equal(next("0 2 * * *", "2026-01-01T02:00:00Z"), "2026-01-02T02:00:00.000Z");
    assert.equal(
      next("0 2 * * *", "2026-01-01T00:00:00Z", "Europe/Berlin"),
      "2026-01-01T01:00:00.000Z",
    );
    assert.equal(
      next("0 2 * * *", "2026-06-30T12:00:00Z", "Europe/Berlin"),
      "2026-07-01T00:00:00.000Z",
    );
  });

  test("a daily time skipped by the spring change runs once, just after the gap", () => {
    // Berlin goes from 02:00 to 03:00 on 2026-03-29 (01:00Z): 02:30 runs at 03:00 that day.
    const inGap = next("30 2 * * *", "2026-03-28T02:00:00Z", "Europe/Berlin");
    assert.equal(inGap, "2026-03-29T01:00:00.000Z");
    assert.equal(next("30 2 * * *", inGap, "Europe/Berlin"), "2026-03-30T00:30:00.000Z");
    // A job every minute of that hour has no minute to run in: it skips the gap.
    assert.equal(
      next("* 2 * * *", "2026-03-29T00:58:00Z", "Europe/Berlin"),
      "2026-03-30T00:00:00.000Z",
    );
  });

  test("a daily time repeated by the autumn change runs once; a repeating job runs in both hours", () => {
    // Berlin goes from 03:00 back to 02:00 on 2026-10-25: 02:30 happens at 00:30Z and 01:30Z.
    const first = next("30 2 * * *", "2026-10-24T12:00:00Z", "Europe/Berlin");
    assert.equal(first, "2026-10-25T00:30:00.000Z");
    assert.equal(next("30 2 * * *", first, "Europe/Berlin"), "2026-10-26T01:30:00.000Z");
    assert.equal(
      next("*/30 2 * * *", "2026-10-25T00:30:00Z", "Europe/Berlin"),
      "2026-10-25T01:00:00.000Z",
    );
  });

  test("04:30 on the first of each month", () => {
    assert.equal(next("30 4 1 * *", "2026-01-01T04:30:00Z"), "2026-02-01T04:30:00.000Z");
    assert.equal(next("30 4 1 * *", "2026-12-15T00:00:00Z"), "2027-01-01T04:30:00.000Z");
  });

  test("day of week, with 7 as Sunday, names and ranges", () => {
    // 2026-01-01 is a Thursday.
    assert.equal(next("0 9 * * 1", "2026-01-01T00:00:00Z"), "2026-01-05T09:00:00.000Z");
    assert.equal(next("0 9 * * 7", "2026-01-01T00:00:00Z"), "2026-01-04T09:00:00.000Z");
    assert.equal(next("0 9 * * 0", "2026-01-01T00:00:00Z"), "2026-01-04T09:00:00.000Z");
    assert.equal(next("0 9 * * 5-6", "2026-01-01T10:00:00Z"), "2026-01-02T09:00:00.000Z");
    assert.equal(next("0 9 * FEB MON", "2026-01-01T00:00:00Z"), "2026-02-02T09:00:00.000Z");
  });

  test("day of month and day of week both restricted: either matches", () => {
    assert.equal(next("0 0 13 * 5", "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00.000Z");
    assert.equal(next("0 0 13 * 5", "2026-01-10T00:00:00Z"), "2026-01-13T00:00:00.000Z");
    // A bare * does not restrict: both fields must match.
    assert.equal(next("0 0 * * 5", "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00.000Z");
    assert.equal(next("0 0 13 * *", "2026-01-01T00:00:00Z"), "2026-01-13T00:00:00.000Z");
  });

  test("lists, ranges with steps and leap days", () => {
    assert.equal(next("5,10-20/5 * * * *", "2026-01-01T00:05:00Z"), "2026-01-01T00:10:00.000Z");
    assert.equal(next("5,10-20/5 * * * *", "2026-01-01T00:20:00Z"), "2026-01-01T01:05:00.000Z");
    assert.equal(next("0 0 29 2 *", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
  });

  test("a yearly expression resolves quickly, in a zone too", () => {
    const cron = cronSchedule("0 0 1 1 *", "America/New_York");
    const start = performance.now();
    const at = cron.next(new Date("2026-01-01T00:00:00Z"));
    assert.equal(at.toISOString(), "2026-01-01T05:00:00.000Z");
    const later = cron.next(at);
    assert.equal(later.toISOString(), "2027-01-01T05:00:00.000Z");
    assert.ok(performance.now() - start < 50, `took ${performance.now() - start} ms`);
  });
});

describe("cronSchedule", () => {
  const rejects = (expr: string, message: RegExp) =>
    assert.throws(
      () => cronSchedule(expr),
      (error: Error) => {
        assert.ok(error.message.startsWith(`cron "${expr}": `), error.message);
        assert.match(error.message, message);
        return true;
      },
    );

  test("names the field that is out of range", () => {
    rejects("0 25 * * *", /hour: 25/);
    rejects("60 * * * *", /minute: 60/);
    rejects("* * 0 * *", /for day/);
    rejects("* * * 13 *", /for month/);
    rejects("* * * * 8", /dayOfWeek: 8/);
  });

  test("rejects malformed fields, naming them", () => {
    rejects("0 0 * *", /expected 5 fields/);
    rejects("x * * * *", /minute "x" is not Cloud Scheduler syntax/);
    rejects("*/0 * * * *", /illegal stepping: 0/);
    rejects("* 5-2 * * *", /'5-2'/);
    rejects("* 5/2 * * *", /'5\/2'/);
    rejects("* * 1-2-3 * *", /illegal range: '1-2-3'/);
    rejects("* * * * 1,", /dayOfWeek.*empty/);
    rejects("0 0 30 2 *", /never runs/);
  });

  test("rejects what croner takes but Cloud Scheduler does not: seconds, L, W, #, ?, nicknames", () => {
    rejects("0 0 2 * * *", /expected 5 fields .* got 6/);
    rejects("@daily", /expected 5 fields/);
    rejects("0 0 L * *", /day-of-month "L" is not Cloud Scheduler syntax/);
    rejects("0 0 15W * *", /day-of-month "15W"/);
    rejects("0 0 * * 5#2", /day-of-week "5#2"/);
    rejects("0 0 ? * *", /day-of-month "\?"/);
    rejects("0 0 * MON *", /month "MON"/);
  });

  test("rejects a time zone that is not IANA's", () => {
    assert.throws(() => cronSchedule("0 0 * * *", "Mars/Olympus"), /time zone "Mars\/Olympus"/);
  });
});
