import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { nextRun, parseCron } from "./cron.ts";

const next = (expr: string, after: string, timeZone = "UTC") =>
  nextRun(parseCron(expr), new Date(after), timeZone).toISOString();

describe("nextRun", () => {
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

  test("a wall time skipped by the spring change does not run that day", () => {
    // Berlin goes from 02:00 to 03:00 on 2026-03-29.
    assert.equal(
      next("30 2 * * *", "2026-03-28T02:00:00Z", "Europe/Berlin"),
      "2026-03-30T00:30:00.000Z",
    );
  });

  test("a wall time repeated by the autumn change runs at both instants", () => {
    // Berlin goes from 03:00 back to 02:00 on 2026-10-25: 02:30 happens at 00:30Z and 01:30Z.
    const first = next("30 2 * * *", "2026-10-24T12:00:00Z", "Europe/Berlin");
    assert.equal(first, "2026-10-25T00:30:00.000Z");
    assert.equal(next("30 2 * * *", first, "Europe/Berlin"), "2026-10-25T01:30:00.000Z");
    assert.equal(
      next("0 2 25 10 *", "2026-10-25T00:30:00Z", "Europe/Berlin"),
      "2026-10-25T01:00:00.000Z",
    );
  });

  test("04:30 on the first of each month", () => {
    assert.equal(next("30 4 1 * *", "2026-01-01T04:30:00Z"), "2026-02-01T04:30:00.000Z");
    assert.equal(next("30 4 1 * *", "2026-12-15T00:00:00Z"), "2027-01-01T04:30:00.000Z");
  });

  test("day of week, with 7 as Sunday and ranges", () => {
    // 2026-01-01 is a Thursday.
    assert.equal(next("0 9 * * 1", "2026-01-01T00:00:00Z"), "2026-01-05T09:00:00.000Z");
    assert.equal(next("0 9 * * 7", "2026-01-01T00:00:00Z"), "2026-01-04T09:00:00.000Z");
    assert.equal(next("0 9 * * 0", "2026-01-01T00:00:00Z"), "2026-01-04T09:00:00.000Z");
    assert.equal(next("0 9 * * 5-6", "2026-01-01T10:00:00Z"), "2026-01-02T09:00:00.000Z");
  });

  test("day of month and day of week both restricted: either matches", () => {
    assert.equal(next("0 0 13 * 5", "2026-01-01T00:00:00Z"), "2026-01-02T00:00:00.000Z");
    assert.equal(next("0 0 13 * 5", "2026-01-10T00:00:00Z"), "2026-01-13T00:00:00.000Z");
    // A field starting with * does not count as restricted: both must match.
    assert.equal(next("0 0 */10 * 5", "2026-01-01T00:00:00Z"), "2026-05-01T00:00:00.000Z");
  });

  test("lists, ranges with steps and leap days", () => {
    assert.equal(next("5,10-20/5 * * * *", "2026-01-01T00:05:00Z"), "2026-01-01T00:10:00.000Z");
    assert.equal(next("5,10-20/5 * * * *", "2026-01-01T00:20:00Z"), "2026-01-01T01:05:00.000Z");
    assert.equal(next("0 0 29 2 *", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
  });

  test("a yearly expression resolves quickly, in a zone too", () => {
    const cron = parseCron("0 0 1 1 *");
    const start = performance.now();
    const at = nextRun(cron, new Date("2026-01-01T00:00:00Z"), "America/New_York");
    assert.equal(at.toISOString(), "2026-01-01T05:00:00.000Z");
    const later = nextRun(cron, at, "America/New_York");
    assert.equal(later.toISOString(), "2027-01-01T05:00:00.000Z");
    assert.ok(performance.now() - start < 50, `took ${performance.now() - start} ms`);
  });
});

describe("parseCron", () => {
  const rejects = (expr: string, message: RegExp) =>
    assert.throws(
      () => parseCron(expr),
      (error: Error) => {
        assert.match(error.message, message);
        return true;
      },
    );

  test("names the field that is out of range", () => {
    rejects("0 25 * * *", /^cron "0 25 \* \* \*": hour 25 is out of range 0-23$/);
    rejects("60 * * * *", /minute 60 is out of range 0-59/);
    rejects("* * 0 * *", /day-of-month 0 is out of range 1-31/);
    rejects("* * * 13 *", /month 13 is out of range 1-12/);
    rejects("* * * * 8", /day-of-week 8 is out of range 0-7/);
  });

  test("rejects malformed fields, naming them", () => {
    rejects("0 0 * *", /expected 5 fields/);
    rejects("x * * * *", /minute "x" is not a number/);
    rejects("* * * JAN *", /month "JAN" is not a number/);
    rejects("*/0 * * * *", /minute step "0" must be a whole number of at least 1/);
    rejects("* 5-2 * * *", /hour range 5-2 is backwards/);
    rejects("* 5/2 * * *", /hour "5\/2": a step needs a range or \*/);
    rejects("* * 1-2-3 * *", /day-of-month "1-2-3" is not a range/);
    rejects("* * * * 1,", /day-of-week "" is not a number/);
    rejects("0 0 30 2 *", /day-of-month 30 never occurs in month 2/);
  });
});
