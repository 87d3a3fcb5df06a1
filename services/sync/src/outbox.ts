import {
  type DocumentReference,
  FieldValue,
  type Firestore,
  type Timestamp,
  type WriteBatch,
} from "@google-cloud/firestore";
import {
  type CollectionName,
  type Logger,
  type Publisher,
  type RealtimeUpdate,
  realtimeUpdateOrderingKey,
  realtimeUpdates,
  type TraceCarrier,
  withDeadline,
  withTraceCarrier,
} from "@syncstack/shared";

/** Internal collection of events committed with their write and not yet known to be published. */
export const outboxCollection = "_outbox" satisfies CollectionName;

/** An event as the outbox keeps it; the timestamp is the commit time, known after commit. */
export type PendingEvent = Omit<RealtimeUpdate, "timestamp">;

/** A committed event as publishing needs it: where it is kept, and its commit time. */
export interface CommittedEvent {
  entry: DocumentReference;
  event: PendingEvent;
  committedAt: Timestamp;
  /** The trace context of the request that made the change: the event is published under it. */
  trace?: TraceCarrier | undefined;
}

export interface OutboxOptions {
  deadlineMs: number;
  /** How long published entries wait to be deleted together in one commit. */
  flushDelayMs?: number;
  /** How long an event may wait for others to share its publish request. */
  publishWaitMs?: number;
  /** Events being published beyond which a request waits for its own event to be published. */
  maxBacklog?: number;
}

/** A committed event as `realtime-updates` carries it: its timestamp is the commit time. */
export function updateOf({ event, committedAt }: CommittedEvent): RealtimeUpdate {
  return { ...event, timestamp: committedAt.toDate().toISOString() };
}

/**
 * The transactional outbox of `realtime-updates`. A commit that writes documents also writes
 * one entry holding the events of all of them (a group commit holds many changes: one entry,
 * not one per change, costs the database a fraction of the writes and index entries); the
 * group commit is the one caller, adding the entry to its batch and handing the committed
 * group back. The events are published right after the commit; once all of an entry's are,
 * it is deleted in a batched commit: deletion marks it published and keeps the outbox small.
 *
 * A document whose live publish failed is blocked: its later events are not published live
 * (they would overtake it) but kept in order in memory for the sweeper (outbox-sweeper.ts),
 * which also publishes what a crash or a Pub/Sub outage left behind. Publishing can repeat
 * an event (a crash before the deletion); consumers deduplicate by (collection, document,
 * version).
 */
export class Outbox {
  readonly #db: Firestore;
  readonly #publisher: Publisher;
  readonly #logger: Logger;
  readonly #options: OutboxOptions;
  /** Per blocked document, its events waiting for the sweeper, oldest first. */
  readonly #blocked = new Map<string, CommittedEvent[]>();
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

  /**
   * Adds one entry holding `events` to the batch that writes their documents, with the trace
   * context of each (so the sweeper publishes it under its request's trace); returns it.
   */
  add(
    batch: WriteBatch,
    events: readonly PendingEvent[],
    traces: readonly (TraceCarrier | undefined)[] = [],
  ): DocumentReference {
    const entry = this.#db.collection(outboxCollection).doc();
    batch.create(entry, {
      // One string field, not an array of maps: the database indexes every field and element.
      events: JSON.stringify(events),
      ...(traces.some((trace) => trace?.traceparent)
        ? { traces: JSON.stringify(traces.map((trace) => trace ?? {})) }
        : {}),
      created_at: FieldValue.serverTimestamp(),
    });
    this.#unpublished.set(entry, events.length);
    return entry;
  }

  /**
   * Takes a committed group's events to publishing; for each event, a promise its request
   * waits for. It resolves at once, the event being safe in the outbox, so a request need
   * not wait while events gather into a shared publish request; when `maxBacklog` events are
   * already being published it resolves once the event is, which bounds the backlog.
   */
  committed(
    entry: DocumentReference,
    events: readonly PendingEvent[],
    committedAt: Timestamp,
    traces: readonly (TraceCarrier | undefined)[] = [],
  ): Promise<void>[] {
    return events.map((event, index) => {
      const work = this.published(entry, event, committedAt, traces[index]);
      return this.#inFlight.size > (this.#options.maxBacklog ?? 1_000) ? work : Promise.resolve();
    });
  }

  /**
   * Publishes a committed event under its request's trace context; never rejects: a failure
   * leaves it to the sweeper.
   */
  published(
    entry: DocumentReference,
    event: PendingEvent,
    committedAt: Timestamp,
    trace?: TraceCarrier,
  ): Promise<void> {
    const key = realtimeUpdateOrderingKey(event);
    const waiting = this.#blocked.get(key);
    if (waiting) {
      waiting.push({ entry, event, committedAt, trace });
      return Promise.resolve();
    }
    const work = withTraceCarrier(trace, () =>
      this.#publisher.publish(realtimeUpdates, updateOf({ entry, event, committedAt }), {
        maxWaitMs: this.#options.publishWaitMs ?? 25,
      }),
    ).then(
      () => this.eventPublished(entry),
      (error: unknown) => {
        // Events of the key published after this one fail too (the batcher keeps order).
        const blocked = this.#blocked.get(key) ?? [];
        blocked.push({ entry, event, committedAt, trace });
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

  /** Documents blocked by a failed live publish, for the sweeper. */
  blockedKeys(): string[] {
    return [...this.#blocked.keys()];
  }

  /**
   * The events queued behind a blocked document, oldest first: the sweeper's to publish and
   * shift off; events that block meanwhile are appended to the same list.
   */
  blockedEvents(key: string): CommittedEvent[] | undefined {
    return this.#blocked.get(key);
  }

  /** The sweeper published everything the document had queued: it publishes live again. */
  unblock(key: string): void {
    this.#blocked.delete(key);
  }

  /** Counts one of the entry's events published; the last one queues the entry's deletion. */
  eventPublished(entry: DocumentReference): void {
    const remaining = (this.#unpublished.get(entry) ?? 1) - 1;
    if (remaining > 0) this.#unpublished.set(entry, remaining);
    else this.entryPublished(entry);
  }

  /** Every event of the entry is published: it is deleted with the next flush. */
  entryPublished(ref: DocumentReference): void {
    this.#unpublished.delete(ref);
    this.#published.push(ref);
    if (this.#published.length >= 500) void this.flushPublished();
    else
      this.#flushTimer ??= setTimeout(
        () => void this.flushPublished(),
        this.#options.flushDelayMs ?? 50,
      );
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
}
