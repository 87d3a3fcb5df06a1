import { type QueryDocumentSnapshot, type QuerySnapshot, Timestamp } from "@google-cloud/firestore";
import type { Logger } from "@syncstack/shared";
import { compareCursors, cursorOf, type Feed } from "./change-feed.ts";

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
}

interface Watch {
  feed: Feed;
  subscribers: Set<LiveListener>;
  /** Changes after this read time are what the current listener reports. */
  after: Timestamp;
  unsubscribe?: () => void;
  restartTimer?: NodeJS.Timeout;
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
  #next = 0;

  constructor(logger: Logger, options: LiveChangesOptions) {
    this.#logger = logger;
    this.#share = options.share;
    this.#maxListenerDocs = options.maxListenerDocs ?? 5_000;
    this.#restartDelayMs = options.restartDelayMs ?? 1_000;
    this.#settleMs = options.settleMs ?? 10_000;
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
    const key = this.#share
      ? `${feed.collection}\u0000${feed.clock.toString()}`
      : String(++this.#next);
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
    subscribed.subscribers.add(listener);
    return () => {
      subscribed.subscribers.delete(listener);
      if (subscribed.subscribers.size === 0 && this.#watches.get(key) === subscribed) {
        this.#watches.delete(key);
        subscribed.unsubscribe?.();
        clearTimeout(subscribed.restartTimer);
      }
    };
  }

  /** Stops every listener. */
  close(): void {
    for (const watch of this.#watches.values()) {
      watch.unsubscribe?.();
      clearTimeout(watch.restartTimer);
    }
    this.#watches.clear();
  }

  #listen(key: string, watch: Watch): void {
    const { feed } = watch;
    const query = feed.query.startAfter(
      Timestamp.fromMillis(watch.after.toMillis() - this.#settleMs),
    );
    watch.unsubscribe = query.onSnapshot(
      (snapshot) => this.#deliver(key, watch, snapshot),
      (error) => {
        this.#logger.warn("change listener failed; restarting it", {
          error,
          collection: feed.collection,
        });
        watch.unsubscribe = undefined;
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
