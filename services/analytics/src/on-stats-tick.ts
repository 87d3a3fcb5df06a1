import { type Firestore, Timestamp } from "@google-cloud/firestore";
import { consumer, statsTick, withDeadline } from "@syncstack/shared";
import type { ActivityFolder } from "./activity-folder.ts";
import { aggregateStats } from "./aggregate-stats.ts";
import { dailyStatsPath, historyCollection } from "./collections.ts";

export interface TickOptions {
  deadlineMs: number;
  aggregationDeadlineMs: number;
}

/** The history document id of a tick: its UTC minute, e.g. `2025-01-01T06:00Z`. */
export function tickId(tickAt: Date): string {
  return `${tickAt.toISOString().slice(0, 16)}Z`;
}

/**
 * Names the interval between ticks from their cron schedule (`6h` for every sixth hour):
 * the figures are refreshed that often, whatever the document's name says.
 */
export function tickPeriod(cron: string | undefined): string {
  if (cron === undefined) return "manual";
  const hours = /^0 \*\/(\d+) \* \* \*$/.exec(cron)?.[1];
  if (hours) return `${Number(hours)}h`;
  if (cron === "0 * * * *") return "1h";
  if (/^0 \d+ \* \* \*$/.test(cron)) return "24h";
  return `cron ${cron}`;
}

/**
 * `stats-tick` -> `analytics/daily_stats` (merged) and `analytics_history/{tick}`. The
 * history document is the tick's idempotency record: a redelivered tick finds it and stops,
 * and the transaction that creates it writes daily_stats only when no later tick has, so a
 * late redelivery never rolls the latest figures back.
 */
export function onStatsTick(db: Firestore, folder: ActivityFolder, options: TickOptions) {
  const period = tickPeriod(statsTick.schedule?.cron);
  return consumer(statsTick, async ({ data, publishTime, logger }) => {
    const started = performance.now();
    // Cloud Scheduler's fixed message has no tick_at: it is published at the scheduled time.
    const tickAt = data.tick_at === undefined ? publishTime : new Date(data.tick_at);
    const historyRef = db.collection(historyCollection).doc(tickId(tickAt));
    const dailyRef = db.doc(dailyStatsPath);
    const seen = await withDeadline("firestore.history.get", options.deadlineMs, () =>
      historyRef.get(),
    );
    if (seen.exists) return;
    try {
      await folder.foldAll();
    } catch (error) {
      // Totals stay exact without it (they add unfolded deltas); only brand-new users wait.
      logger.warn("folding before the tick failed", { error });
    }
    // A server read time after the fold: the clock of this instance may run ahead or behind.
    const { readTime } = await withDeadline("firestore.daily.get", options.deadlineMs, () =>
      dailyRef.get(),
    );
    const figures = await aggregateStats(db, tickAt, readTime, options.aggregationDeadlineMs);
    const timestamp = Timestamp.fromDate(tickAt);
    await withDeadline("firestore.tick.write", options.deadlineMs, () =>
      db.runTransaction(async (transaction) => {
        const [history, daily] = await transaction.getAll(historyRef, dailyRef);
        if (history?.exists) return;
        transaction.create(historyRef, { ...figures, timestamp, period, computed_at: readTime });
        const latest = daily?.get("timestamp") as Timestamp | undefined;
        if (!latest || latest.toMillis() <= timestamp.toMillis()) {
          transaction.set(dailyRef, { ...figures, timestamp, period }, { merge: true });
        }
      }),
    );
    const durationMs = Math.round(performance.now() - started);
    logger.info("stats tick written", { tick: historyRef.id, ...figures, durationMs });
  });
}
