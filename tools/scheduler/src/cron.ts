const fieldSpecs = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day-of-week", min: 0, max: 7 },
] as const;

/** A parsed 5-field cron expression: the allowed values of each field, ascending. */
export type Cron = {
  source: string;
  minute: readonly number[];
  hour: readonly number[];
  dayOfMonth: readonly number[];
  month: readonly number[];
  dayOfWeek: readonly number[];
  /** Whether a day field starts with `*`: then both day fields must match, otherwise either. */
  dayOfMonthStar: boolean;
  dayOfWeekStar: boolean;
};

/** Parses "minute hour day-of-month month day-of-week"; throws an Error naming the bad field. */
export function parseCron(expr: string): Cron {
  const fail = (problem: string): never => {
    throw new Error(`cron "${expr}": ${problem}`);
  };
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) {
    fail(`expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`);
  }
  const values = fieldSpecs.map(({ name, min, max }, i) => {
    const field = fields[i] ?? "";
    const chosen = new Set<number>();
    const number = (text: string) => {
      if (!/^\d+$/.test(text)) fail(`${name} "${text}" is not a number`);
      const value = Number(text);
      if (value < min || value > max) fail(`${name} ${value} is out of range ${min}-${max}`);
      return value;
    };
    for (const item of field.split(",")) {
      const [range = "", step, ...extra] = item.split("/");
      if (extra.length > 0) fail(`${name} "${item}" has more than one step`);
      const every = step === undefined ? 1 : Number(step);
      if (step !== undefined && !(/^\d+$/.test(step) && every >= 1)) {
        fail(`${name} step "${step}" must be a whole number of at least 1`);
      }
      const bounds = range === "*" ? [String(min), String(max)] : range.split("-");
      if (step !== undefined && bounds.length === 1)
        fail(`${name} "${item}": a step needs a range or *`);
      if (bounds.length > 2) fail(`${name} "${range}" is not a range`);
      const from = number(bounds[0] ?? "");
      const to = number(bounds[1] ?? String(from));
      if (from > to) fail(`${name} range ${from}-${to} is backwards`);
      // Sunday is 0 or 7.
      for (let v = from; v <= to; v += every) chosen.add(name === "day-of-week" ? v % 7 : v);
    }
    return [...chosen].sort((a, b) => a - b);
  });
  const [minute = [], hour = [], dayOfMonth = [], month = [], dayOfWeek = []] = values;
  const cron: Cron = {
    source: expr,
    minute,
    hour,
    dayOfMonth,
    month,
    dayOfWeek,
    dayOfMonthStar: fields[2]?.startsWith("*") ?? true,
    dayOfWeekStar: fields[4]?.startsWith("*") ?? true,
  };
  const firstDay = dayOfMonth[0] ?? 1;
  if (cron.dayOfWeekStar && !month.some((m) => firstDay <= daysIn(m))) {
    fail(`day-of-month ${firstDay} never occurs in month ${month.join(",")}`);
  }
  return cron;
}

const minuteMs = 60_000;
const hourMs = 60 * minuteMs;

/** The first minute strictly after `after` whose wall clock in `timeZone` matches `cron`. */
export function nextRun(cron: Cron, after: Date, timeZone: string): Date {
  const zone = zoneOffsets(timeZone);
  const at = after.getTime();
  if (Number.isNaN(at)) throw new Error(`nextRun: invalid date for cron "${cron.source}"`);
  // Wall clock times repeat when clocks go back; start 3 h earlier so none of them is skipped.
  const fallBack = zone.offset(at + 3 * hourMs) < zone.offset(at);
  let wall = Math.floor((at + zone.offset(at)) / minuteMs) * minuteMs + minuteMs;
  if (fallBack) wall -= 3 * hourMs;
  const limit = wall + 50 * 366 * 24 * hourMs;
  let best: number | undefined;
  let stopAt = limit;
  while (wall <= stopAt) {
    wall = nextWall(cron, wall, limit);
    if (wall > stopAt) break;
    for (const instant of zone.instantsOf(wall)) {
      if (instant > at && (best === undefined || instant < best)) best = instant;
    }
    if (best !== undefined) {
      if (!fallBack) break;
      stopAt = Math.min(stopAt, wall + 3 * hourMs);
    }
    wall += minuteMs;
  }
  if (best === undefined) throw new Error(`cron "${cron.source}" has no run in the next 50 years`);
  return new Date(best);
}

/** The first wall clock minute at or after `from` that matches, as a UTC-based timestamp. */
function nextWall(cron: Cron, from: number, limit: number): number {
  let t = from;
  while (t <= limit) {
    const d = new Date(t);
    const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
    const dom = cron.dayOfMonth.includes(day);
    const dow = cron.dayOfWeek.includes(d.getUTCDay());
    const dayOk = cron.dayOfMonthStar || cron.dayOfWeekStar ? dom && dow : dom || dow;
    const minute = cron.minute.find((m) => m >= d.getUTCMinutes());
    if (!cron.month.includes(mo + 1)) t = Date.UTC(y, mo + 1, 1);
    else if (!dayOk) t = Date.UTC(y, mo, day + 1);
    else if (!cron.hour.includes(h) || minute === undefined) t = Date.UTC(y, mo, day, h + 1);
    else return Date.UTC(y, mo, day, h, minute);
  }
  return limit + 1;
}

function daysIn(month: number): number {
  return month === 2 ? 29 : [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** UTC offsets of a zone, and the instants at which its clocks show a given wall time. */
function zoneOffsets(timeZone: string) {
  const format =
    timeZone === "UTC"
      ? undefined
      : new Intl.DateTimeFormat("en-US", {
          timeZone,
          hourCycle: "h23",
          year: "numeric",
          month: "numeric",
          day: "numeric",
          hour: "numeric",
          minute: "numeric",
          second: "numeric",
        });
  const offset = (instant: number): number => {
    if (format === undefined) return 0;
    const part: Record<string, number> = {};
    for (const { type, value } of format.formatToParts(instant)) part[type] = Number(value);
    const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = part;
    return Date.UTC(year, month - 1, day, hour, minute, second) - Math.floor(instant / 1000) * 1000;
  };
  // Offsets 14 h either side bracket any transition near the wall time.
  const instantsOf = (wall: number): number[] =>
    [...new Set([wall - offset(wall - 14 * hourMs), wall - offset(wall + 14 * hourMs)])]
      .filter((instant) => instant + offset(instant) === wall)
      .sort((a, b) => a - b);
  return { offset, instantsOf };
}
