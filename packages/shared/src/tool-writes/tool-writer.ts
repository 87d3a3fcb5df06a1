import type {
  DocumentData,
  DocumentReference,
  DocumentSnapshot,
  Firestore,
  Timestamp,
  WriteBatch,
} from "@google-cloud/firestore";
import { FieldPath, FieldValue } from "@google-cloud/firestore";
import { withDeadline } from "../deadline.ts";
import { AppError } from "../errors.ts";
import { grpcCodeOf, grpcStatus, preconditionFailures } from "../grpc-status.ts";
import type { Publisher } from "../pubsub/publisher.ts";
import { currentTraceCarrier, type TraceCarrier, withTraceCarrier } from "../telemetry.ts";
import { realtimeUpdates } from "../topics/realtime-updates.ts";
import { type PlanOptions, planToolWrite, type ToolOutcome } from "./plan-tool-write.ts";
import { RampUp } from "./ramp-up.ts";
import { addToolOutboxEntry, type ToolPendingEvent } from "./tool-outbox.ts";

/** How a tool (a restore, a migration) writes documents under the sync contract. */
export interface ToolWriterOptions extends PlanOptions {
  db: Firestore;
  /** Pages are read and planned, nothing is written. */
  dryRun: boolean;
  /**
   * Publishes the events right after their commit; without one (or when it fails) they wait
   * in `_outbox` for the sync service's sweeper.
   */
  publisher: Publisher | undefined;
  deadlineMs: number;
  /** Production's 500/50/5 ramp-up (500 writes/s, +50% every 5 minutes); off for an emulator. */
  throttle?: boolean;
  /** Attempts of a commit that fails with a transient error (ABORTED, UNAVAILABLE, ...). */
  maxAttempts?: number;
  /** Called before each retry of a commit after a transient error. */
  onRetry?: () => void;
  /** Documents per commit (one outbox entry each). */
  commitSize?: number;
}

/** One document to write: the whole stored document wanted at `ref`. */
export interface ToolItem {
  ref: DocumentReference;
  fields: DocumentData;
  /**
   * Written only if the document was last updated at this time (a source being deleted must
   * still be the version that was copied); else the item fails.
   */
  unchangedSince?: Timestamp;
  /**
   * The document as the caller just read it (an in-place migration's source): not read
   * again; the write's precondition on its update time still catches a change since.
   */
  current?: DocumentSnapshot;
}

/** What became of one item; `error` when its write failed (the outcome is the planned one). */
export interface ToolItemResult {
  outcome: ToolOutcome;
  error?: unknown;
}

/** The events of the writes so far: published live, or left in `_outbox` for the sweeper. */
export interface ToolEvents {
  published: number;
  pending: number;
}

// Firestore's getAll takes up to 500 documents per call in practice.
const readChunk = 500;
// A page of at least this many documents, none of them in the target, makes the next pages
// assume their documents absent rather than read them.
const assumeAbsentAfter = 50;
const transientCodes: ReadonlySet<number> = new Set([
  grpcStatus.ABORTED,
  grpcStatus.UNAVAILABLE,
  grpcStatus.RESOURCE_EXHAUSTED,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.INTERNAL,
]);

interface Entry {
  item: ToolItem;
  snapshot: DocumentSnapshot | undefined;
  index: number;
}

/**
 * Writes pages of documents for a tool so that versions never go backwards and no event is
 * lost: the target's current documents are read with one getAll per page, each write is
 * planned from them (plan-tool-write.ts) and made with a precondition on the state it was
 * planned from (the document does not exist, or was last updated at the time read). A page
 * is committed in atomic batches of `commitSize` documents, each holding one `_outbox` entry
 * with the events of its documents of collections the sync API serves (`source` the tool,
 * no `uid`): the events are as durable as the writes. They are published right after the
 * commit and the entry deleted; what is not published (a crash, an outage) the sync service's
 * sweeper publishes. A commit that fails a precondition (a sync write in between) is re-read
 * and split in halves, so a busy document costs a re-read of its half, never a lost or
 * repeated version; one failing for another reason is split down to the document at fault.
 */
export class ToolWriter {
  readonly #options: ToolWriterOptions;
  readonly #rampUp: RampUp | undefined;
  readonly #trace: TraceCarrier;
  readonly #events = new Set<Promise<void>>();
  readonly #done: DocumentReference[] = [];
  #published = 0;
  #pending = 0;
  #assumeAbsent = false;

  constructor(options: ToolWriterOptions) {
    this.#options = options;
    this.#rampUp = options.throttle ? new RampUp() : undefined;
    this.#trace = currentTraceCarrier();
  }

  /** Plans and (unless a dry run) writes `items`; resolves once every write has settled. */
  async writePage(items: readonly ToolItem[]): Promise<ToolItemResult[]> {
    const snapshots = await this.#readPage(items);
    const results: ToolItemResult[] = [];
    const entries = items.map((item, index) => ({ item, snapshot: snapshots[index], index }));
    const size = this.#options.commitSize ?? 100;
    const commits: Promise<void>[] = [];
    for (let start = 0; start < entries.length; start += size) {
      commits.push(this.#commit(entries.slice(start, start + size), results, 1));
    }
    await Promise.all(commits);
    return results;
  }

  /**
   * Waits for the live publishing of every write so far and deletes the published entries;
   * says how many events were published and how many wait in `_outbox` for the sweeper.
   */
  async settled(): Promise<ToolEvents> {
    while (this.#events.size > 0) await Promise.all([...this.#events]);
    await this.#deleteDone();
    return { published: this.#published, pending: this.#pending };
  }

  /**
   * The page's current documents: those the caller knows (`current`) as given; the rest with
   * getAll, unless the last page found none of its documents (a new target: a copy into a
   * new collection, a restore into an empty database), when they are assumed absent and
   * created with the precondition that they do not exist. One that does fails its commit with
   * ALREADY_EXISTS, which is re-read and split like any precondition failure, and turns the
   * reads back on: a cost, never a wrong version.
   */
  async #readPage(items: readonly ToolItem[]): Promise<(DocumentSnapshot | undefined)[]> {
    const unknown = items.flatMap((item, index) => (item.current ? [] : [index]));
    const snapshots: (DocumentSnapshot | undefined)[] = items.map((item) => item.current);
    if (this.#assumeAbsent || unknown.length === 0) return snapshots;
    const read = await this.#read(unknown.map((index) => (items[index] as ToolItem).ref));
    for (const [position, index] of unknown.entries()) snapshots[index] = read[position];
    this.#assumeAbsent = unknown.length >= assumeAbsentAfter && read.every((s) => !s.exists);
    return snapshots;
  }

  async #read(refs: readonly DocumentReference[]): Promise<DocumentSnapshot[]> {
    const snapshots: DocumentSnapshot[] = [];
    for (let start = 0; start < refs.length; start += readChunk) {
      const chunk = refs.slice(start, start + readChunk);
      if (chunk.length === 0) continue;
      snapshots.push(
        ...(await withDeadline("firestore.getAll tool", this.#options.deadlineMs, () =>
          this.#options.db.getAll(...chunk),
        )),
      );
    }
    return snapshots;
  }

  async #commit(entries: Entry[], results: ToolItemResult[], attempt: number): Promise<void> {
    const { db } = this.#options;
    const batch = db.batch();
    const events: ToolPendingEvent[] = [];
    const written: Entry[] = [];
    for (const entry of entries) {
      const { item, snapshot } = entry;
      const current = snapshot?.exists ? snapshot.data() : undefined;
      const plan = planToolWrite(item.ref, item.fields, current, this.#options);
      if (item.unchangedSince && !snapshot?.updateTime?.isEqual(item.unchangedSince)) {
        results[entry.index] = {
          outcome: plan.outcome,
          error: new AppError("conflict", `${item.ref.path} changed after it was read`),
        };
        continue;
      }
      results[entry.index] = { outcome: plan.outcome };
      if (this.#options.dryRun || !plan.fields) continue;
      if (snapshot?.exists && snapshot.updateTime && current) {
        update(batch, item.ref, plan.fields, current, snapshot.updateTime);
      } else {
        batch.create(item.ref, plan.fields);
      }
      written.push(entry);
      if (plan.op && plan.version !== undefined) {
        const createdBy = item.fields.created_by;
        events.push({
          collection: item.ref.parent.id,
          document: item.ref.id,
          op: plan.op,
          version: plan.version,
          source: this.#options.source,
          ...(typeof createdBy === "string" && createdBy.length > 0
            ? { created_by: createdBy }
            : {}),
        });
      }
    }
    if (written.length === 0) return;
    const outbox =
      events.length > 0 ? addToolOutboxEntry(db, batch, events, this.#trace) : undefined;
    let commitTime: Timestamp;
    try {
      await this.#rampUp?.acquire(written.length);
      const [first] = await withDeadline("firestore.commit tool", this.#options.deadlineMs, () =>
        batch.commit(),
      );
      commitTime = (first as { writeTime: Timestamp }).writeTime;
    } catch (error) {
      await this.#failed(written, results, attempt, error);
      return;
    }
    if (outbox) this.#publish(outbox, events, commitTime);
  }

  /** A commit failed: retried, re-read and split, or down to one document, its failure. */
  async #failed(
    entries: Entry[],
    results: ToolItemResult[],
    attempt: number,
    error: unknown,
  ): Promise<void> {
    const code = grpcCodeOf(error);
    const maxAttempts = this.#options.maxAttempts ?? 10;
    // A commit waiting on a lock (a transaction holding the document) ends at the deadline.
    const transient =
      (code !== undefined && transientCodes.has(code)) ||
      (error instanceof AppError && error.retryable);
    if (transient && attempt < maxAttempts) {
      this.#options.onRetry?.();
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5_000)));
      // A deadline may have hidden a commit that went through: the re-read sees it.
      const again = await this.#reread(entries);
      return this.#commit(again, results, attempt + 1);
    }
    const precondition = code !== undefined && preconditionFailures.has(code);
    if (code === grpcStatus.ALREADY_EXISTS) this.#assumeAbsent = false;
    if (entries.length > 1) {
      const halves = [entries.slice(0, entries.length >> 1), entries.slice(entries.length >> 1)];
      await Promise.all(
        halves.map(async (half) =>
          this.#commit(precondition ? await this.#reread(half) : half, results, attempt),
        ),
      );
      return;
    }
    if (precondition && attempt < maxAttempts) {
      return this.#commit(await this.#reread(entries), results, attempt + 1);
    }
    for (const entry of entries) {
      results[entry.index] = { outcome: results[entry.index]?.outcome ?? "changed", error };
    }
  }

  async #reread(entries: Entry[]): Promise<Entry[]> {
    const snapshots = await this.#read(entries.map((entry) => entry.item.ref));
    return entries.map((entry, index) => ({ ...entry, snapshot: snapshots[index] }));
  }

  /** Publishes a committed entry's events; once all are, the entry is deleted. */
  #publish(outbox: DocumentReference, events: ToolPendingEvent[], commitTime: Timestamp): void {
    const publisher = this.#options.publisher;
    if (!publisher) {
      this.#pending += events.length;
      return;
    }
    const timestamp = commitTime.toDate().toISOString();
    const work: Promise<void> = Promise.allSettled(
      events.map((event) =>
        withTraceCarrier(this.#trace, () =>
          publisher.publish(realtimeUpdates, { ...event, timestamp }, { maxWaitMs: 25 }),
        ),
      ),
    )
      .then(async (outcomes) => {
        const failed = outcomes.filter((outcome) => outcome.status === "rejected").length;
        this.#published += outcomes.length - failed;
        // The sweeper publishes the whole entry again (consumers deduplicate by version).
        if (failed > 0) this.#pending += failed;
        else {
          this.#done.push(outbox);
          if (this.#done.length >= 500) await this.#deleteDone();
        }
      })
      .finally(() => this.#events.delete(work));
    this.#events.add(work);
  }

  /** Deletes the outbox entries whose events are all published, 500 a commit. */
  async #deleteDone(): Promise<void> {
    while (this.#done.length > 0) {
      const batch = this.#options.db.batch();
      for (const ref of this.#done.splice(0, 500)) batch.delete(ref);
      // Left behind, they are published again by the sweeper: a duplicate, never a loss.
      await withDeadline("firestore.outbox.delete tool", this.#options.deadlineMs, () =>
        batch.commit(),
      ).catch(() => {});
    }
  }
}

/** Replaces the stored document with `fields` if it is still as read. */
function update(
  batch: WriteBatch,
  ref: DocumentReference,
  fields: Record<string, unknown>,
  current: DocumentData,
  updateTime: Timestamp,
): void {
  const pairs: unknown[] = [];
  for (const [key, value] of Object.entries(fields)) pairs.push(new FieldPath(key), value);
  for (const key of Object.keys(current)) {
    if (!(key in fields)) pairs.push(new FieldPath(key), FieldValue.delete());
  }
  const [first, firstValue, ...rest] = pairs as [FieldPath, unknown, ...unknown[]];
  batch.update(ref, first, firstValue, ...rest, { lastUpdateTime: updateTime });
}
