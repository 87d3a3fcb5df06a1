import {
  type DocumentReference,
  FieldValue,
  type Firestore,
  Timestamp,
  type WriteBatch,
} from "@google-cloud/firestore";
import {
  type CollectionName,
  type Logger,
  type Publisher,
  type RealtimeUpdate,
  realtimeUpdateOrderingKey,
  realtimeUpdates,
  withDeadline,
} from "@syncstack/shared";

/** Internal collection of events committed with their write and not yet known to be published. */
export const outboxCollection = "_outbox" satisfies CollectionName;

/** An event as the outbox keeps it; the timestamp is the commit time, known after commit. */
export type PendingEvent = Omit<RealtimeUpdate, "timestamp">;

export interface OutboxOptions {
  deadlineMs: number;
  /** Entries older than this and unpublished are the sweeper's (live publishing had its chance). */
  sweepAgeMs: number;
  /** How long published entries wait to be deleted together in one commit. */
  flushDelayMs?: number;
  /** How long an event may wait for others to share its publish request. */
  publishWaitMs?: number;
  /** Events being published beyond which a request waits for its own event to be published. */
  maxBacklog?: number;
}

/** A committed event as publishing needs it: where it is kept, and its commit time. */
interface Committed {
  entry: DocumentReference;
  event: PendingEvent;
  committedAt: Timestamp;
}

/**
 * The transactional outbox of `realtime-updates`. A commit that writes documents also writes
 * one entry holding the events of all of them (a group commit holds many changes: one entry,
 * not one per change, costs the database a fraction of the writes and index entries). The
 * events are published right after the commit; once all of an entry's are, it is deleted in
 * a batched commit: deletion marks it published and keeps the outbox small.
 *
 * A document whose live publish failed is blocked: its later events are not published live
 * (they would overtake it) but kept in order in memory, and the sweeper publishes them. The
 * sweeper also publishes the events of entries older than the sweep age, which a crash or a
 * Pub/Sub outage left behind, oldest first and in order per document. Publishing can repeat
 * an event (a crash before the deletion); consumers deduplicate by (collection, document,
 * version).
 */
export class Outbox {
  readonly #db: Firestore;
  readonly #publisher: Publisher;
  readonly #logger: Logger;
  readonly #options: OutboxOptions;
  /** Per blocked document, its events waiting for the sweeper, oldest first. */
  readonly #blocked = new Map<string, Committed[]>();
  /** Events of an entry not yet published; the entry is deleted when none are left. */
  readonly #unpublished = new WeakMap<DocumentReference, number>();
  readonly #published: DocumentReference[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(db: Firestore, publisher: Publisher, logger: Logger, options: OutboxOptions) {
    this.#db = db;
    this.#publisher = publisher;
    this.#logger = logger.child({ component: "outbox" });
    this.#options = options;
  }

  /** Adds one entry holding `events` to the batch that writes their documents; returns it. */
  add(batch: WriteBatch, events: readonly PendingEvent[]): DocumentReference {
    const entry = this.#db.collection(outboxCollection).doc();
    batch.create(entry, {
      // One string field, not an array of maps: the database indexes every field and element.
      events: JSON.stringify(events),
      created_at: FieldValue.serverTimestamp(),
    });
    this.#unpublished.set(entry, events.length);
    return entry;
  }

  /**
   * Hands a committed event to publishing. Resolves at once, the event being safe in the
   * outbox, so its request need not wait while events gather into a shared publish request;
   * when `maxBacklog` events are already being published it resolves once this one is, which
   * keeps the backlog bounded under load.
   */
  afterCommit(
    entry: DocumentReference,
    event: PendingEvent,
    committedAt: Timestamp,
  ): Promise<void> {
    const work = this.published(entry, event, committedAt);
    return this.#inFlight.size > (this.#options.maxBacklog ?? 1_000) ? work : Promise.resolve();
  }

  /** Publishes a committed event; never rejects: a failure leaves it to the sweeper. */
  published(entry: DocumentReference, event: PendingEvent, committedAt: Timestamp): Promise<void> {
    const key = realtimeUpdateOrderingKey(event);
    const waiting = this.#blocked.get(key);
    if (waiting) {
      waiting.push({ entry, event, committedAt });
      return Promise.resolve();
    }
    const work = this.#publisher
      .publish(
        realtimeUpdates,
        { ...event, timestamp: committedAt.toDate().toISOString() },
        { maxWaitMs: this.#options.publishWaitMs ?? 25 },
      )
      .then(
        () => this.#donePublishing(entry),
        (error: unknown) => {
          // Events of the key published after this one fail too (the batcher keeps order).
          const blocked = this.#blocked.get(key) ?? [];
          blocked.push({ entry, event, committedAt });
          blocked.sort((a, b) => a.event.version - b.event.version);
          this.#blocked.set(key, blocked);
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
   * Publishes the events of entries older than the sweep age, and the events of documents
   * whose live publish failed, oldest first and in order per document. Returns how many it
   * published.
   */
  async sweep(): Promise<number> {
    const cutoff = Timestamp.fromMillis(Date.now() - this.#options.sweepAgeMs);
    const stale = await withDeadline("firestore.outbox.sweep", this.#options.deadlineMs, () =>
      this.#db
        .collection(outboxCollection)
        .where("created_at", "<=", cutoff)
        .orderBy("created_at")
        .limit(500)
        .get(),
    );
    const byKey = new Map<string, Committed[]>();
    /** Events of each stale entry this sweep has yet to publish. */
    const left = new Map<string, number>();
    for (const snapshot of stale.docs) {
      // The entry's commit time is its events' commit time: their timestamp, as when published live.
      const committedAt = snapshot.createTime ?? (snapshot.get("created_at") as Timestamp);
      const events = JSON.parse(snapshot.get("events") as string) as PendingEvent[];
      left.set(snapshot.ref.path, events.length);
      for (const event of events) {
        const key = realtimeUpdateOrderingKey(event);
        const items = byKey.get(key) ?? [];
        items.push({ entry: snapshot.ref, event, committedAt });
        byKey.set(key, items);
      }
    }
    const blockedKeys = [...this.#blocked.keys()];
    for (const key of blockedKeys) {
      const pending = byKey.get(key) ?? [];
      for (const item of this.#blocked.get(key) ?? []) {
        const known = pending.some(
          (p) => p.entry.path === item.entry.path && p.event.version === item.event.version,
        );
        if (!known) pending.push(item);
      }
      byKey.set(key, pending);
    }
    let count = 0;
    const publish = async (item: Committed): Promise<boolean> => {
      try {
        await this.#publisher.publish(realtimeUpdates, {
          ...item.event,
          timestamp: item.committedAt.toDate().toISOString(),
        });
      } catch (error) {
        this.#logger.warn("sweeper could not publish; will retry", {
          error,
          key: realtimeUpdateOrderingKey(item.event),
        });
        return false;
      }
      count++;
      const remaining = left.get(item.entry.path);
      if (remaining === undefined) this.#donePublishing(item.entry);
      else if (remaining > 1) left.set(item.entry.path, remaining - 1);
      else {
        left.delete(item.entry.path);
        this.#deleteLater(item.entry);
      }
      return true;
    };
    await Promise.all(
      [...byKey].map(async ([key, items]) => {
        const blocked = this.#blocked.get(key);
        items.sort(
          (a, b) =>
            a.committedAt.toMillis() - b.committedAt.toMillis() ||
            a.event.version - b.event.version,
        );
        const sent = new Set<string>();
        for (const item of items) {
          if (!(await publish(item))) return;
          sent.add(`${item.entry.path}#${item.event.version}`);
        }
        if (!blocked) return;
        // Events that queued behind the document while the sweep published go out too, in
        // order, before it takes live publishes again.
        for (let next = blocked[0]; next; next = blocked[0]) {
          if (!sent.has(`${next.entry.path}#${next.event.version}`) && !(await publish(next))) {
            return;
          }
          blocked.shift();
        }
        this.#blocked.delete(key);
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
      // An entry can be done twice (the sweeper and a late live publish): one delete each.
      for (const path of new Set(refs.map((ref) => ref.path))) batch.delete(this.#db.doc(path));
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

  /** Counts one of the entry's events published; the last one queues the entry's deletion. */
  #donePublishing(entry: DocumentReference): void {
    const remaining = (this.#unpublished.get(entry) ?? 1) - 1;
    if (remaining > 0) this.#unpublished.set(entry, remaining);
    else this.#deleteLater(entry);
  }

  #deleteLater(ref: DocumentReference): void {
    this.#unpublished.delete(ref);
    this.#published.push(ref);
    if (this.#published.length >= 500) void this.flushPublished();
    else
      this.#flushTimer ??= setTimeout(
        () => void this.flushPublished(),
        this.#options.flushDelayMs ?? 50,
      );
  }
}
