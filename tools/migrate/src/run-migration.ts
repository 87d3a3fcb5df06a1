import type { Firestore } from "@google-cloud/firestore";
import {
  type AccessRules,
  defaultTombstoneRetentionMs,
  type Publisher,
  ToolWriter,
  toolSources,
} from "@syncstack/shared";
import {
  checkpointVersion,
  emptyCounts,
  type MigrationCounts,
  type MigrationIdentity,
  writeCheckpoint,
} from "./checkpoint.ts";
import { openFailureReport } from "./failure-report.ts";
import type { MigrationTransform } from "./load-transform.ts";
import { migratePage, type PageResult } from "./migrate-page.ts";
import { createMigrationWriter } from "./migration-writer.ts";
import type { WhereClause } from "./parse-where.ts";
import { planStart } from "./plan-start.ts";
import { type ProgressStream, startProgress } from "./progress.ts";
import { type Cursor, firstQueryPages, openSource } from "./source-pages.ts";
import { formatSummary, type MigrationResult } from "./summary.ts";

/** Everything a migration run is told; paths are absolute. */
export interface MigrationOptions {
  from: string;
  to: string;
  where: WhereClause[];
  transform: MigrationTransform | undefined;
  /** Where the transform came from, part of the checkpoint's identity. */
  transformPath: string | undefined;
  recursive: boolean;
  deleteSource: boolean;
  dryRun: boolean;
  resume: boolean;
  restart: boolean;
  pageSize: number;
  checkpointPath: string;
  reportPath: string;
  project: string | undefined;
  /** BulkWriter's ramp-up: off against the emulator, on against production. */
  throttling: boolean;
  maxWriteAttempts: number;
  /**
   * Publishes the `realtime-updates` events (source "migrate") of documents written into a
   * collection the sync API serves right after their commit; the events are in `_outbox`
   * either way, and what is not published the sync service's sweeper publishes.
   */
  publisher?: Publisher | undefined;
  /** How long a deleted source's tombstone is kept (`expire_at`), as sync's TOMBSTONE_RETENTION_DAYS. */
  tombstoneRetentionMs?: number;
  /** The app's access rules, from which a document's `readers` follow its members. */
  rules?: AccessRules | undefined;
  /** Deadline of one read of the targets' current versions. */
  deadlineMs?: number;
  /** Aborting stops reading; pages already read finish and are checkpointed. */
  signal?: AbortSignal;
}

/** Where the run reports: progress (a terminal or not) and the summary. */
export interface MigrationIo {
  progress: ProgressStream;
  out: { write(text: string): unknown };
}

// Reading the next page overlaps the writes of the pages before it; memory stays at a few pages.
const pagesInFlight = 3;

/**
 * Copies `from` to `to` page by page in document-id order (after any `--where` inequality
 * fields), with the checkpoint advanced only past pages whose writes have all finished.
 * Throws AppError invalid_argument, before touching Firestore, when the checkpoint forbids
 * the run; errors reading the source end it after the pages already read are checkpointed.
 */
export async function runMigration(
  db: Firestore,
  options: MigrationOptions,
  io: MigrationIo,
): Promise<MigrationResult> {
  const identity: MigrationIdentity = {
    project: options.project ?? null,
    from: options.from,
    to: options.to,
    where: options.where,
    transform: options.transformPath ?? null,
    recursive: options.recursive,
    deleteSource: options.deleteSource,
  };
  const label = `${options.from} -> ${options.to}`;
  const plan = await planStart({ ...options, identity });
  if (plan.kind === "done") {
    const result = finished("already-complete", options, plan.checkpoint.counts, 0, 0);
    io.out.write(formatSummary(label, result, options));
    return result;
  }
  if (plan.kind === "fresh" && plan.note) io.out.write(`migrate: ${plan.note}\n`);
  const resumed = plan.kind === "resume" ? plan.checkpoint : undefined;
  const report = await openFailureReport(options.reportPath, resumed?.reportBytes ?? 0);
  const counts: MigrationCounts = { ...emptyCounts(), ...resumed?.counts };
  let after: Cursor = resumed?.after ?? null;
  const save = (complete: boolean) =>
    options.dryRun
      ? Promise.resolve()
      : writeCheckpoint(options.checkpointPath, {
          version: checkpointVersion,
          migration: identity,
          after,
          complete,
          counts,
          reportBytes: report.bytes,
          updatedAt: new Date().toISOString(),
        });

  const source = openSource(db, options.from, options.where);

  const writer = options.dryRun
    ? undefined
    : createMigrationWriter(db, {
        throttling: options.throttling,
        maxAttempts: options.maxWriteAttempts,
        onRetry: () => counts.retries++,
      });
  const tool = new ToolWriter({
    db,
    dryRun: options.dryRun,
    publisher: options.publisher,
    source: toolSources.migrate,
    undelete: false,
    rules: options.rules,
    throttle: options.throttling,
    maxAttempts: options.maxWriteAttempts,
    onRetry: () => counts.retries++,
    deadlineMs: options.deadlineMs ?? 60_000,
  });
  const context = {
    ...options,
    db,
    writer,
    tool,
    target: db.collection(options.to),
    tombstoneRetentionMs: options.tombstoneRetentionMs ?? defaultTombstoneRetentionMs,
  };
  const progress = startProgress(io.progress, { label, done: counts.read });
  const readBefore = counts.read;
  // Counting can take a while on a large collection: the copy starts at once. A failing count
  // only leaves the total unknown; the query itself reports what is wrong. (Deferring it
  // until the source outlasts the first query saved the emulator a scan but left a run's
  // first 50,000 documents without an ETA, for no measurable speed: see docs/benchmarks.md.)
  source.countAfter(after).then(
    (left) => progress.setTotal(readBefore + left),
    () => {},
  );
  const started = performance.now();
  const inFlight: Promise<PageResult & { after: Cursor }>[] = [];
  const settleOldest = async () => {
    const page = await inFlight.shift();
    if (!page) return;
    for (const key of Object.keys(page.counts) as (keyof MigrationCounts)[]) {
      counts[key] += page.counts[key];
    }
    // The report first: a kill between the two leaves lines the resumed run cuts off again.
    await report.append(page.failures);
    after = page.after;
    await save(false);
    progress.update(counts.read);
  };

  let exhausted = true;
  let readToEnd = false;
  try {
    const firstPages = firstQueryPages({
      transform: options.transform !== undefined,
      recursive: options.recursive,
      deleteSource: options.deleteSource,
    });
    for await (const page of source.pages(after, options.pageSize, firstPages)) {
      if (options.signal?.aborted) {
        exhausted = false;
        break;
      }
      const pageAfter = page.after;
      inFlight.push(migratePage(context, page.docs).then((r) => ({ ...r, after: pageAfter })));
      if (inFlight.length >= pagesInFlight) await settleOldest();
    }
    readToEnd = exhausted;
  } finally {
    while (inFlight.length > 0) await settleOldest();
    await writer?.close();
    // Read to the end, the source held what was read (a count still under way or taken
    // before later writes aside): the last line shows it as the total.
    if (readToEnd) progress.setTotal(counts.read);
    progress.finish();
  }
  const events = await tool.settled();
  await save(exhausted);
  const seconds = (performance.now() - started) / 1_000;
  const result = {
    ...finished(
      exhausted ? "complete" : "interrupted",
      options,
      counts,
      counts.read - readBefore,
      seconds,
    ),
    eventsPending: events.pending,
  };
  io.out.write(formatSummary(label, result, options));
  return result;
}

function finished(
  state: MigrationResult["state"],
  options: MigrationOptions,
  counts: MigrationCounts,
  runRead: number,
  seconds: number,
): MigrationResult {
  return {
    state,
    dryRun: options.dryRun,
    counts,
    runRead,
    seconds,
    checkpointPath: options.dryRun ? undefined : options.checkpointPath,
    reportPath: counts.failed > 0 ? options.reportPath : undefined,
  };
}
