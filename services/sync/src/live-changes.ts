import { type QueryDocumentSnapshot, type QuerySnapshot, Timestamp } from "@google-cloud/firestore";
import type { Logger } from "@syncstack/shared";
import { type Cursor, compareCursors, cursorOf, type Feed, timestampOf } from "./change-feed.ts";
import { compareTimes } from "./feed-page.ts";

/**
 * What a subscriber is given: the documents a snapshot added or changed, in feed order, and
 * the snapshot's read time (every commit up to it is in this snapshot or an earlier one).
 */
export type LiveListener = (docs: QueryDocumentSnapshot[], readTime: Timestamp) => void;

export interface LiveChangesOptions {
  /** One Firestore listener per feed (collection + clock field) and instance, or one per subscriber. */
  share: boolean;
  /** A listener whose result set grows past this many documents is restarted from its read time. */
  maxListenerDocs?: number;
  /** Wait before restarting a listener that failed. */
  restartDelayMs?: number;
  /**
   * How far before its read time a listener starts. Clocks are server timestamps, the time
   * Firestore took a commit's request: a commit in flight at the read time has a clock before
   * it and becomes visible after it, so a listener started exactly there would never report
   * it. Subscribers tell repeats from new commits by version.
   */
  settleMs?: number;
  /**
   * How long a shared listener stays after its last subscriber leaves, so clients resuming
   * (a stream ended at its lifetime, a network blip) catch up from it rather than with reads.
   */
  lingerMs?: number;
}

/** A listener's latest snapshot: every document of the feed whose clock is after `from`. */
export interface RecentChanges {
  docs: QueryDocumentSnapshot[];
  readTime: Timestamp;
}

interface Watch {
  feed: Feed;
  subscribers: Set<LiveListener>;
  /** Changes after this read time are what the current listener reports. */
  after: Timestamp;
  /** The current listener's query starts after this clock. */
  from?: Timestamp;
  /** Its latest snapshot: the documents of the feed after `from`, as of its read time. */
  latest?: QuerySnapshot;
  unsubscribe?: () => void;
  restartTimer?: NodeJS.Timeout;
  lingerTimer?: NodeJS.Timeout;
}

/**
 * Live changes of feeds from Firestore listeners (`onSnapshot` on the feed's ordered query,
 * started after a read time), so a write through any instance reaches every instance. A
 * snapshot is consistent at its read time: each one after the first holds exactly the commits
 * since the previous one. A subscriber gets every snapshot after it subscribed, so anything
 * committed after a read it makes once subscribed reaches it.
 */
export class LiveChanges {
  readonly #watches = new Map<string, Watch>();
  readonly #logger: Logger;
  readonly #share: boolean;
  readonly #maxListenerDocs: number;
  readonly #restartDelayMs: number;
  readonly #settleMs: number;
  readonly #lingerMs: number;
  #next = 0;

  constructor(logger: Logger, options: LiveChangesOptions) {
    this.#logger = logger;
    this.#share = options.share;
    this.#maxListenerDocs = options.maxListenerDocs ?? 5_000;
    this.#restartDelayMs = options.restartDelayMs ?? 1_000;
    this.#settleMs = options.settleMs ?? 10_000;
    this.#lingerMs = options.share ? (options.lingerMs ?? 60_000) : 0;
  }

  /** Firestore listeners open now (for tests and the benchmark). */
  get listeners(): number {
    return [...this.#watches.values()].filter((watch) => watch.unsubscribe).length;
  }

  /**
   * Subscribes to the live changes of a feed; resolves once subscribed, with the function
   * that unsubscribes. The first subscriber of a feed starts its listener after the server's
   * current read time (one small read), so no commit falls between it and later reads.
   */
  async subscribe(feed: Feed, listener: LiveListener): Promise<() => void> {
    const key = this.#share ? keyOf(feed) : String(++this.#next);
    let watch = this.#watches.get(key);
    if (!watch) {
      const { readTime } = await feed.query.limit(1).get();
      // Another subscriber may have started it meanwhile.
      watch = this.#watches.get(key);
      if (!watch) {
        watch = { feed, subscribers: new Set(), after: readTime };
        this.#watches.set(key, watch);
        this.#listen(key, watch);
      }
    }
    const subscribed = watch;
    clearTimeout(subscribed.lingerTimer);
    subscribed.subscribers.add(listener);
    return () => {
      subscribed.subscribers.delete(listener);
      if (subscribed.subscribers.size > 0 || this.#watches.get(key) !== subscribed) return;
      clearTimeout(subscribed.lingerTimer);
      if (this.#lingerMs === 0) {
        this.#stop(key, subscribed);
        return;
      }
      subscribed.lingerTimer = setTimeout(() => {
        if (subscribed.subscribers.size === 0) this.#stop(key, subscribed);
      }, this.#lingerMs);
      subscribed.lingerTimer.unref();
    };
  }

  /**
   * What a stream resuming from `since` is missing, from the feed's shared listener rather than
   * a read, when its latest snapshot covers the cursor: the snapshot holds every document whose
   * clock is after the listener's start (less the settle bound), at its latest version as of the
   * snapshot's read time. A cursor (pos, R) needs the documents after pos and those in
   * (R - settle, pos] updated after R (feed-page.ts), so both pos and R - settle must be at or
   * after that start. Undefined otherwise (the caller reads the feed): no listener or no
   * snapshot yet, a cursor without a read time or in the middle of a rescan (`w`).
   */
  recent(feed: Feed, since: Cursor): RecentChanges | undefined {
    if (!this.#share || !since.r || since.w) return undefined;
    const watch = this.#watches.get(keyOf(feed));
    const latest = watch?.latest;
    if (!watch?.from || !latest) return undefined;
    if (compareTimes(new Timestamp(since.s, since.n), watch.from) <= 0) return undefined;
    const rescanFrom = Timestamp.fromMillis(timestampOf(since.r).toMillis() - this.#settleMs);
    if (compareTimes(rescanFrom, watch.from) < 0) return undefined;
    return { docs: latest.docs, readTime: latest.readTime };
  }

  /** Stops every listener. */
  close(): void {
    for (const [key, watch] of this.#watches) this.#stop(key, watch);
  }

  #stop(key: string, watch: Watch): void {
    if (this.#watches.get(key) === watch) this.#watches.delete(key);
    watch.unsubscribe?.();
    watch.unsubscribe = undefined;
    watch.latest = undefined;
    clearTimeout(watch.restartTimer);
    clearTimeout(watch.lingerTimer);
  }

  #listen(key: string, watch: Watch): void {
    const { feed } = watch;
    const from = Timestamp.fromMillis(watch.after.toMillis() - this.#settleMs);
    watch.from = from;
    watch.latest = undefined;
    const query = feed.query.startAfter(from);
    watch.unsubscribe = query.onSnapshot(
      (snapshot) => this.#deliver(key, watch, snapshot),
      (error) => {
        this.#logger.warn("change listener failed; restarting it", {
          error,
          collection: feed.collection,
        });
        watch.unsubscribe = undefined;
        watch.latest = undefined;
        watch.restartTimer = setTimeout(() => {
          if (this.#watches.get(key) === watch) this.#listen(key, watch);
        }, this.#restartDelayMs);
        watch.restartTimer.unref();
      },
    );
  }

  #deliver(key: string, watch: Watch, snapshot: QuerySnapshot): void {
    if (this.#watches.get(key) !== watch) return;
    watch.after = snapshot.readTime;
    // Before the subscribers hear of it: a stream taking `latest` once subscribed has every
    // snapshot after it delivered to it.
    watch.latest = snapshot;
    const docs = snapshot
      .docChanges()
      .filter((change) => change.type !== "removed")
      .map((change) => change.doc);
    if (docs.length > 0) {
      const positioned = docs.map((doc) => ({ doc, at: cursorOf(doc, watch.feed.clock) }));
      positioned.sort((a, b) => (a.at && b.at ? compareCursors(a.at, b.at) : 0));
      const sorted = positioned.map((entry) => entry.doc);
      for (const subscriber of watch.subscribers) subscriber(sorted, snapshot.readTime);
    }
    // The listener holds every document changed since it started: past the bound, a new one
    // starts after this snapshot's read time, whose first snapshot is what comes after it.
    if (snapshot.size > this.#maxListenerDocs) {
      watch.unsubscribe?.();
      this.#listen(key, watch);
    }
  }
}

/** One shared listener per collection and clock (a caller reading everything, or one user). */
function keyOf(feed: Feed): string {
  return `${feed.collection}\u0000${feed.clock.toString()}`;
}
