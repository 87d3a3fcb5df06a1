import {
  type BulkWriter,
  type DocumentData,
  type DocumentReference,
  type DocumentSnapshot,
  FieldPath,
  FieldValue,
  type Firestore,
  type WriteResult,
} from "@google-cloud/firestore";
import { withDeadline } from "../deadline.ts";
import { AppError } from "../errors.ts";
import { grpcCodeOf, preconditionFailures } from "../grpc-status.ts";
import type { Publisher } from "../pubsub/publisher.ts";
import { type RealtimeUpdate, realtimeUpdates } from "../topics/realtime-updates.ts";
import { type PlanOptions, planToolWrite, type ToolOutcome } from "./plan-tool-write.ts";

/** How a tool (a restore, a migration) writes documents under the sync contract. */
export interface ToolWriterOptions extends PlanOptions {
  db: Firestore;
  /** Undefined on a dry run: pages are read and planned, nothing is written. */
  writer: BulkWriter | undefined;
  /** Publishes the events of documents the sync API serves (none on a dry run). */
  publisher: Publisher | undefined;
  deadlineMs: number;
}

/** One document to write: the whole stored document wanted at `ref`. */
export interface ToolItem {
  ref: DocumentReference;
  fields: DocumentData;
}

/** What became of one item; `error` when its write failed (the outcome is the planned one). */
export interface ToolItemResult {
  outcome: ToolOutcome;
  error?: unknown;
}

// A concurrent writer between the read and the write costs a re-read and another try.
const maxAttempts = 8;
// Firestore's getAll takes up to 500 documents per call in practice.
const readChunk = 500;

/**
 * Writes pages of documents for a tool so that versions never go backwards: the target's
 * current documents are read with one getAll per page, each write is planned from them
 * (plan-tool-write.ts) and made with a precondition on the state it was planned from (the
 * document does not exist, or was last updated at the time read), so a sync write in between
 * costs a re-read and a new plan, never a lost or repeated version. Documents of collections
 * the sync API serves get `updated_at` and `readers.<uid>` from the server's clock and a
 * `realtime-updates` event with the tool as `source` and no `uid` (no user wrote them),
 * published batched after the write.
 */
export class ToolWriter {
  readonly #options: ToolWriterOptions;
  readonly #events = new Set<Promise<void>>();
  #published = 0;
  #unpublished = 0;
  #publishError: unknown;

  constructor(options: ToolWriterOptions) {
    this.#options = options;
  }

  /** Events published so far. */
  get published(): number {
    return this.#published;
  }

  /** Plans and (unless a dry run) writes `items`; resolves once every write has settled. */
  async writePage(items: readonly ToolItem[]): Promise<ToolItemResult[]> {
    const snapshots = await this.#read(items.map((item) => item.ref));
    const results = items.map((item, index) => this.#write(item, snapshots[index], 1));
    void this.#flush();
    return Promise.all(results);
  }

  /** Waits for the events of every write so far; throws when any could not be published. */
  async settled(): Promise<void> {
    while (this.#events.size > 0) await Promise.all([...this.#events]);
    if (this.#unpublished > 0) {
      throw new AppError(
        "unavailable",
        `the documents were written but ${this.#unpublished} realtime-updates events could not be published`,
        { cause: this.#publishError },
      );
    }
  }

  async #read(refs: readonly DocumentReference[]): Promise<DocumentSnapshot[]> {
    const snapshots: DocumentSnapshot[] = [];
    for (let start = 0; start < refs.length; start += readChunk) {
      const chunk = refs.slice(start, start + readChunk);
      snapshots.push(
        ...(await withDeadline("firestore.getAll tool", this.#options.deadlineMs, () =>
          this.#options.db.getAll(...chunk),
        )),
      );
    }
    return snapshots;
  }

  async #write(
    item: ToolItem,
    snapshot: DocumentSnapshot | undefined,
    attempt: number,
  ): Promise<ToolItemResult> {
    const current = snapshot?.exists ? snapshot.data() : undefined;
    const plan = planToolWrite(item.ref, item.fields, current, this.#options);
    const writer = this.#options.writer;
    if (!writer || !plan.fields) return { outcome: plan.outcome };
    let written: WriteResult;
    try {
      written =
        snapshot?.exists && snapshot.updateTime && current
          ? await update(writer, item.ref, plan.fields, current, snapshot)
          : await writer.create(item.ref, plan.fields);
    } catch (error) {
      const code = grpcCodeOf(error);
      if (code === undefined || !preconditionFailures.has(code) || attempt >= maxAttempts) {
        return { outcome: plan.outcome, error };
      }
      const [again] = await this.#read([item.ref]);
      const retried = this.#write(item, again, attempt + 1);
      void this.#flush();
      return retried;
    }
    if (plan.op && plan.version !== undefined) {
      const createdBy = item.fields.created_by;
      this.#publish({
        collection: item.ref.parent.id,
        document: item.ref.id,
        op: plan.op,
        version: plan.version,
        source: this.#options.source,
        timestamp: written.writeTime.toDate().toISOString(),
        ...(typeof createdBy === "string" && createdBy.length > 0 ? { created_by: createdBy } : {}),
      });
    }
    return { outcome: plan.outcome };
  }

  #publish(event: RealtimeUpdate): void {
    const publisher = this.#options.publisher;
    if (!publisher) return;
    const work: Promise<void> = publisher
      .publish(realtimeUpdates, event, { maxWaitMs: 25 })
      .then(
        () => {
          this.#published++;
        },
        (error: unknown) => {
          this.#unpublished++;
          this.#publishError ??= error;
        },
      )
      .finally(() => this.#events.delete(work));
    this.#events.add(work);
  }

  async #flush(): Promise<void> {
    try {
      await this.#options.writer?.flush();
    } catch {
      // Closed: the caller closes only once every write has settled, so none is left.
    }
  }
}

/** Replaces the stored document with `fields` if it is still as read. */
function update(
  writer: BulkWriter,
  ref: DocumentReference,
  fields: Record<string, unknown>,
  current: DocumentData,
  snapshot: DocumentSnapshot,
): Promise<WriteResult> {
  const pairs: unknown[] = [];
  for (const [key, value] of Object.entries(fields)) pairs.push(new FieldPath(key), value);
  for (const key of Object.keys(current)) {
    if (!(key in fields)) pairs.push(new FieldPath(key), FieldValue.delete());
  }
  const [first, firstValue, ...rest] = pairs as [FieldPath, unknown, ...unknown[]];
  return writer.update(ref, first, firstValue, ...rest, {
    lastUpdateTime: snapshot.updateTime,
  });
}
