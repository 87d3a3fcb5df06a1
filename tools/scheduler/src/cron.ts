import { Cron } from "croner";

const fieldNames = ["minute", "hour", "day-of-month", "month", "day-of-week"] as const;
const monthNames = /\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)\b/gi;
const dayNames = /\b(SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi;

/** A 5-field cron expression read in a time zone: the runs Cloud Scheduler would make. */
export type CronSchedule = {
  source: string;
  timeZone: string;
  /** The first run strictly after `after`. */
  next(after: Date): Date;
};

/**
 * Checks that `expr` is what Cloud Scheduler takes (the same strings are deployed to it):
 * five fields of numbers, `*`, ranges `a-b`, steps `/n` and lists, with JAN-DEC and SUN-SAT
 * names. croner accepts more (a seconds field, `L`, `W`, `#`, `?`, `@daily`), which Cloud
 * Scheduler would refuse, so those are refused here first.
 */
function checkCloudSchedulerSyntax(expr: string, fail: (problem: string) => never): void {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    fail(`expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  }
  fields.forEach((field, i) => {
    const names = i === 3 ? monthNames : i === 4 ? dayNames : undefined;
    const numeric = names ? field.replace(names, "0") : field;
    if (!/^[\d*,/-]+$/.test(numeric)) {
      fail(
        `${fieldNames[i]} "${field}" is not Cloud Scheduler syntax (numbers${names ? ", names" : ""}, *, a-b, /n, lists)`,
      );
    }
  });
}

/** Reads a Cloud Scheduler cron expression in `timeZone`; throws an Error naming the expression. */
export function cronSchedule(expr: string, timeZone = "UTC"): CronSchedule {
  const fail = (problem: string): never => {
    throw new Error(`cron "${expr}": ${problem}`);
  };
  checkCloudSchedulerSyntax(expr, fail);
  try {
    new Intl.DateTimeFormat("en-US", { timeZone });
  } catch {
    fail(`time zone "${timeZone}" is not an IANA time zone`);
  }
  let cron: Cron | undefined;
  try {
    cron = new Cron(expr.trim(), { timezone: timeZone, mode: "5-part" });
  } catch (error) {
    fail((error as Error).message.replace(/^CronPattern: /, ""));
  }
  const next = (after: Date): Date => {
    if (Number.isNaN(after.getTime())) fail("invalid date to count the next run from");
    return cron?.nextRun(after) ?? fail("never runs (no date matches every field)");
  };
  next(new Date(0));
  return { source: expr, timeZone, next };
}
