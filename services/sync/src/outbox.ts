import { createHash } from "node:crypto";
import {
  type DocumentReference,
  FieldValue,
  type Firestore,
  Timestamp,
  type WriteBatch,
} from "@google-cloud/firestore";
import {
  type Logger,
  type Publisher,
  type RealtimeUpdate,
  realtimeUpdates,
  withDeadline,
} from "@syncstack/shared";

/** Internal collection of events committed with their write and not yet known to be published. */
export const outboxCollection = "_outbox";

/** An event as the outbox keeps it; the timestamp is the commit time, known after commit. */
export type PendingEvent = Omit<RealtimeUpdate, "timestamp">;

export interface OutboxOptions {
  deadlineMs: number;
  /** Entries older than this and unpublished are the sweeper's (live publishing had its chance). */
  sweepAgeMs: number;
  /** How long published entries wait to be deleted together in one commit. */
  flushDelayMs?: number;
}

/** The key that orders a document's events. */
export function orderingKeyOf(event: { collection: string; document: string }): string {
  return `${event.collection}/${event.document}`;
}

/**
 * The transactional outbox of `realtime-updates`: an entry is committed in the same write
 * batch as its document, published right after the commit, and then deleted in batched
 * commits: deletion marks it published and keeps the outbox small. The sweeper publishes what
 * a crash or a Pub/Sub outage left behind, oldest first, one document's events in order.
 * Publishing can repeat an event (a crash before the deletion); consumers deduplicate by
 * (collection, document, version).
 */
export class Outbox {
  readonly #db: Firestore;
  readonly #publisher: Publisher;
  readonly #logger: Logger;
  readonly #options: OutboxOptions;
  /** Documents whose live publish failed: their later events wait for the sweeper, to stay in order. */
  readonly #blocked = new Set<string>();
  readonly #published: DocumentReference[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(db: Firestore, publisher: Publisher, logger: Logger, options: OutboxOptions) {
    this.#db = db;
    this.#publisher = publisher;
    this.#logger = logger.child({ component: "outbox" });
    this.#options = options;
  }

  /** Where the entry for `event` is kept; the id orders a document's entries by version. */
  entryRef(event: PendingEvent): DocumentReference {
    const id = createHash("sha256")
      .update(`${event.collection}\u0000${event.document}`)
      .digest("hex");
    return this.#db
      .collection(outboxCollection)
      .doc(`${id.slice(0, 40)}-${String(event.version).padStart(12, "0")}`);
  }

  /** Adds the entry for `event` to the batch that writes its document. */
  add(batch: WriteBatch, ref: DocumentReference, event: PendingEvent): void {
    batch.create(ref, {
      // One string field, not a map: the emulator (and Firestore) index every map field.
      event: JSON.stringify(event),
      ordering_key: orderingKeyOf(event),
      created_at: FieldValue.serverTimestamp(),
    });
  }

  /**
   * Publishes a committed entry; never rejects: a failure leaves it to the sweeper. The
   * request waits for it, which keeps the event backlog bounded under load.
   */
  published(ref: DocumentReference, event: PendingEvent, committedAt: Timestamp): Promise<void> {
    const key = orderingKeyOf(event);
    if (this.#blocked.has(key)) return Promise.resolve();
    const work = this.#publisher
      .publish(realtimeUpdates, { ...event, timestamp: committedAt.toDate().toISOString() })
      .then(
        () => this.#donePublishing(ref),
        (error: unknown) => {
          this.#blocked.add(key);
          this.#logger.warn("publishing an event failed; the sweeper will retry it", {
            error,
            key,
          });
        },
      );
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
    return work;
  }

  /**
   * Publishes unpublished entries older than the sweep age, and every pending entry of a
   * document whose live publish failed, oldest first and in order per document.
   * Returns how many it published.
   */
  async sweep(): Promise<number> {
    const outbox = this.#db.collection(outboxCollection);
    const cutoff = Timestamp.fromMillis(Date.now() - this.#options.sweepAgeMs);
    const stale = await withDeadline("firestore.outbox.sweep", this.#options.deadlineMs, () =>
      outbox.where("created_at", "<=", cutoff).orderBy("created_at").limit(500).get(),
    );
    const blocked = [...this.#blocked];
    const perKey = await Promise.all(
      blocked.map((key) =>
        withDeadline("firestore.outbox.sweep", this.#options.deadlineMs, () =>
          outbox.where("ordering_key", "==", key).orderBy("created_at").get(),
        ),
      ),
    );
    const byKey = new Map<
      string,
      { ref: DocumentReference; event: PendingEvent; createdAt: Timestamp }[]
    >();
    const seen = new Set<string>();
    for (const snapshot of [stale, ...perKey].flatMap((query) => query.docs)) {
      if (seen.has(snapshot.id)) continue;
      seen.add(snapshot.id);
      const key = snapshot.get("ordering_key") as string;
      const entries = byKey.get(key) ?? [];
      // The entry's commit time is its write's commit time: the event's timestamp, as when published live.
      const createdAt = snapshot.createTime ?? (snapshot.get("created_at") as Timestamp);
      entries.push({
        ref: snapshot.ref,
        event: JSON.parse(snapshot.get("event") as string) as PendingEvent,
        createdAt,
      });
      byKey.set(key, entries);
    }
    let count = 0;
    await Promise.all(
      [...byKey].map(async ([key, entries]) => {
        entries.sort(
          (a, b) =>
            a.createdAt.toMillis() - b.createdAt.toMillis() || a.event.version - b.event.version,
        );
        for (const entry of entries) {
          try {
            await this.#publisher.publish(realtimeUpdates, {
              ...entry.event,
              timestamp: entry.createdAt.toDate().toISOString(),
            });
          } catch (error) {
            this.#logger.warn("sweeper could not publish; will retry", { error, key });
            return;
          }
          this.#donePublishing(entry.ref);
          count++;
        }
        if (blocked.includes(key)) this.#blocked.delete(key);
      }),
    );
    if (count > 0) this.#logger.info("sweeper published events", { count });
    await this.flushPublished();
    return count;
  }

  /** Sweeps now and then every `intervalMs`; returns a function that stops and drains. */
  start(intervalMs: number): () => Promise<void> {
    let running: Promise<unknown> = this.sweep().catch((error: unknown) =>
      this.#logger.error("sweep failed", { error }),
    );
    const timer = setInterval(() => {
      running = running
        .then(() => this.sweep())
        .catch((error: unknown) => this.#logger.error("sweep failed", { error }));
    }, intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
      await this.drain();
    };
  }

  /** Waits for background publishes and deletes their entries. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inFlight]);
    await this.flushPublished();
  }

  /** Deletes the published entries queued so far, in one commit per 500. */
  async flushPublished(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    while (this.#published.length > 0) {
      const refs = this.#published.splice(0, 500);
      const batch = this.#db.batch();
      for (const ref of refs) batch.delete(ref);
      try {
        await withDeadline("firestore.outbox.delete", this.#options.deadlineMs, () =>
          batch.commit(),
        );
      } catch (error) {
        // Entries left are republished by the sweeper; consumers deduplicate.
        this.#logger.warn("deleting published outbox entries failed", {
          error,
          count: refs.length,
        });
      }
    }
  }

  #donePublishing(ref: DocumentReference): void {
    this.#published.push(ref);
    if (this.#published.length >= 500) void this.flushPublished();
    else
      this.#flushTimer ??= setTimeout(
        () => void this.flushPublished(),
        this.#options.flushDelayMs ?? 50,
      );
  }
}
