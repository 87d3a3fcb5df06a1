import type { MigrationCounts } from "./checkpoint.ts";

/** How a run ended, with totals over the whole migration (earlier interrupted runs too). */
export interface MigrationResult {
  state: "complete" | "already-complete" | "interrupted";
  dryRun: boolean;
  counts: MigrationCounts;
  /** Documents read and seconds spent by this run alone, for its rate. */
  runRead: number;
  seconds: number;
  checkpointPath: string | undefined;
  /** The failure report, when there are failures. */
  reportPath: string | undefined;
  /** Events this run could not publish, left in `_outbox` for the sync service's sweeper. */
  eventsPending?: number;
}

/** The end-of-run summary: how it ended, then read, written, skipped, failed and the rest. */
export function formatSummary(
  label: string,
  result: MigrationResult,
  shown: { recursive: boolean; deleteSource: boolean },
): string {
  const { counts } = result;
  const rate = result.seconds > 0 ? Math.round(result.runRead / result.seconds) : 0;
  const took = `in ${result.seconds.toFixed(1)} s (${n(rate)} documents/s)`;
  const heading = {
    complete: result.dryRun ? `dry run complete ${took}, nothing written` : `complete ${took}`,
    "already-complete": `already complete (${result.checkpointPath}): nothing to do`,
    interrupted: result.dryRun
      ? `dry run interrupted ${took}`
      : `interrupted ${took}; continue with --resume`,
  }[result.state];
  const would = result.dryRun ? "would be " : "";
  const width = Math.max(...Object.values(counts).map((value) => n(value).length));
  const line = (name: string, value: number, note = "") =>
    `  ${name.padEnd(8)} ${n(value).padStart(width)}${note ? `  ${note}` : ""}`;
  const lines = [
    `migrate ${label}: ${heading}`,
    line("read", counts.read),
    line("written", counts.written, result.dryRun ? "would be written" : ""),
    line("skipped", counts.skipped, "the transform returned null"),
    line("failed", counts.failed, result.reportPath ? `reasons in ${result.reportPath}` : ""),
  ];
  if (counts.unchanged > 0)
    lines.push(
      line(
        "same",
        counts.unchanged,
        "of written: unchanged (same as the target, or deleted there since)",
      ),
    );
  if (shown.recursive)
    lines.push(line("nested", counts.nested, `subcollection documents ${would}copied`));
  if (shown.deleteSource)
    lines.push(line("deleted", counts.deleted, `source documents ${would}deleted`));
  if (counts.retries > 0)
    lines.push(line("retried", counts.retries, "writes retried (contention, unavailable)"));
  if (result.eventsPending)
    lines.push(
      `  ${n(result.eventsPending)} realtime-updates events wait in _outbox for the sync service's sweeper`,
    );
  return `${lines.join("\n")}\n`;
}

function n(value: number): string {
  return value.toLocaleString("en-US");
}
