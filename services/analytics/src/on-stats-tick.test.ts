import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { statsTick } from "@syncstack/shared";
import { tickId, tickPeriod } from "./on-stats-tick.ts";

describe("tick naming", () => {
  test("a tick's history id is its UTC minute, so one tick maps to one entry", () => {
    assert.equal(tickId(new Date("2030-01-02T06:00:00.000Z")), "2030-01-02T06:00Z");
    assert.equal(tickId(new Date("2030-01-02T07:00:59.999+01:00")), "2030-01-02T06:00Z");
  });

  test("the period names the schedule's interval, not the document's name", () => {
    assert.equal(tickPeriod(statsTick.schedule?.cron), "6h");
    assert.equal(tickPeriod("0 */12 * * *"), "12h");
    assert.equal(tickPeriod("0 * * * *"), "1h");
    assert.equal(tickPeriod("0 2 * * *"), "24h");
    assert.equal(tickPeriod("*/5 * * * *"), "cron */5 * * * *");
    assert.equal(tickPeriod(undefined), "manual");
  });
});
