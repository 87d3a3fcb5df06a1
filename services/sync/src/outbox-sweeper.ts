import { type Firestore, Timestamp } from "@google-cloud/firestore";
import {
  type Clock,
  type Logger,
  type Publisher,
  realtimeUpdateOrderingKey,
  realtimeUpdates,
  systemClock,
  type TraceCarrier,
  withDeadline,
  withTraceCarrier,
} from "@syncstack/shared";
import {
  type CommittedEvent,
  type Outbox,
  outboxCollection,
  type PendingEvent,
  updateOf,
} from "./outbox.ts";

export interface OutboxSweeperOptions {
  deadlineMs: number;
  /** Entries older than this and unpublished are the sweeper's (live publishing had its chance). */
  sweepAgeMs: number;
  now?: Clock;
}

/** Where the sweep age begins: entries created at or before it are the sweeper's. */
export function sweepCutoff(now: number, sweepAgeMs: number): Timestamp {
  return Timestamp.fromMillis(now - sweepAgeMs);
}

/**
 * Publishes what live publishing left behind: the events of outbox entries older than the
 * sweep age (a crash or a Pub/Sub outage), and the events of documents whose live publish
 * failed, oldest first and in order per document. Run periodically by `startSweeper`.
 */
export class OutboxSweeper {
  readonly #db: Firestore;
  readonly #outbox: Outbox;
  readonly #publisher: Publisher;
  readonly #logger: Logger;
  readonly #options: OutboxSweeperOptions;
  readonly #now: Clock;

  constructor(
    db: Firestore,
    outbox: Outbox,
    publisher: Publisher,
    logger: Logger,
    options: OutboxSweeperOptions,
  ) {
    this.#db = db;
    this.#outbox = outbox;
    this.#publisher = publisher;
    this.#logger = logger.child({ component: "outbox-sweeper" });
    this.#options = options;
    this.#now = options.now ?? systemClock;
  }

  /** One sweep; returns how many events it published. */
  async sweep(): Promise<number> {
    const cutoff = sweepCutoff(this.#now(), this.#options.sweepAgeMs);
    const stale = await withDeadline("firestore.outbox.sweep", this.#options.deadlineMs, () =>
      this.#db
        .collection(outboxCollection)
        .where("created_at", "<=", cutoff)
        .orderBy("created_at")
        .limit(500)
        .get(),
    );
    const byKey = new Map<string, CommittedEvent[]>();
    /** Events of each stale entry this sweep has yet to publish. */
    const left = new Map<string, number>();
    for (const snapshot of stale.docs) {
      // The entry's commit time is its events' commit time: their timestamp, as when published live.
      const committedAt = snapshot.createTime ?? (snapshot.get("created_at") as Timestamp);
      const events = JSON.parse(snapshot.get("events") as string) as PendingEvent[];
      const traces = JSON.parse(
        (snapshot.get("traces") as string | undefined) ?? "[]",
      ) as TraceCarrier[];
      left.set(snapshot.ref.path, events.length);
      for (const [index, event] of events.entries()) {
        const key = realtimeUpdateOrderingKey(event);
        const items = byKey.get(key) ?? [];
        items.push({ entry: snapshot.ref, event, committedAt, trace: traces[index] });
        byKey.set(key, items);
      }
    }
    for (const key of this.#outbox.blockedKeys()) {
      const pending = byKey.get(key) ?? [];
      for (const item of this.#outbox.blockedEvents(key) ?? []) {
        const known = pending.some(
          (p) => p.entry.path === item.entry.path && p.event.version === item.event.version,
        );
        if (!known) pending.push(item);
      }
      byKey.set(key, pending);
    }
    let count = 0;
    const publish = async (item: CommittedEvent): Promise<boolean> => {
      try {
        // Under the trace of the request that made the change: one trace from request to consumers.
        await withTraceCarrier(item.trace, () =>
          this.#publisher.publish(realtimeUpdates, updateOf(item)),
        );
      } catch (error) {
        this.#logger.warn("sweeper could not publish; will retry", {
          error,
          key: realtimeUpdateOrderingKey(item.event),
        });
        return false;
      }
      count++;
      const remaining = left.get(item.entry.path);
      if (remaining === undefined) this.#outbox.eventPublished(item.entry);
      else if (remaining > 1) left.set(item.entry.path, remaining - 1);
      else {
        left.delete(item.entry.path);
        this.#outbox.entryPublished(item.entry);
      }
      return true;
    };
    await Promise.all(
      [...byKey].map(async ([key, items]) => {
        const blocked = this.#outbox.blockedEvents(key);
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
        this.#outbox.unblock(key);
      }),
    );
    if (count > 0) this.#logger.info("sweeper published events", { count });
    await this.#outbox.flushPublished();
    return count;
  }
}
