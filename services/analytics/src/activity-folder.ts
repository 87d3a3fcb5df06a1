import { type Firestore, Timestamp } from "@google-cloud/firestore";
import { type Clock, type Logger, systemClock, withDeadline } from "@syncstack/shared";
import { activityDeltasCollection } from "./collections.ts";
import { foldDeltas, maxFoldWrites, type PendingDelta, pendingOf } from "./fold-deltas.ts";

/** Takes committed deltas to fold into their users' records. */
export interface DeltaSink {
  note(pending: PendingDelta): void;
}

export interface FolderOptions {
  /** Least time between two folds into one user's record. */
  intervalMs: number;
  deadlineMs: number;
  /** Unfolded deltas older than this are the sweeper's. */
  sweepAgeMs: number;
  /** Decides the sweep age and when a user may be folded again. */
  now?: Clock;
}

/**
 * Folds the deltas this instance committed into `user_stats`, coalescing each user's burst:
 * one user's record is written at most once per interval, however many events arrive, and
 * one transaction folds many users at a time. Folds run one after another, so the instance
 * never contends with itself. What a crash leaves unfolded, the sweeper finds by age.
 */
export class ActivityFolder implements DeltaSink {
  readonly #db: Firestore;
  readonly #logger: Logger;
  readonly #options: FolderOptions;
  readonly #now: Clock;
  /** Deltas waiting, by uid and path. */
  readonly #waiting = new Map<string, Map<string, PendingDelta>>();
  /** When each recently folded user may be folded again. */
  readonly #nextFold = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #busy = false;
  #stopped = false;

  constructor(db: Firestore, logger: Logger, options: FolderOptions) {
    this.#db = db;
    this.#logger = logger.child({ component: "activity-folder" });
    this.#options = options;
    this.#now = options.now ?? systemClock;
  }

  /** A delta committed: fold it as soon as its user's interval allows. */
  note(pending: PendingDelta): void {
    if (this.#stopped) return;
    const { uid } = pending.delta;
    const deltas = this.#waiting.get(uid) ?? new Map<string, PendingDelta>();
    deltas.set(pending.ref.path, pending);
    this.#waiting.set(uid, deltas);
    this.#arm();
  }

  /**
   * Queues every delta older than the sweep age (one page), which a crashed instance
   * committed but never folded; returns how many it found. Run periodically by `startSweeper`.
   */
  async sweep(): Promise<number> {
    const cutoff = Timestamp.fromMillis(this.#now() - this.#options.sweepAgeMs);
    const stale = await withDeadline("firestore.deltas.sweep", this.#options.deadlineMs, () =>
      this.#db
        .collection(activityDeltasCollection)
        .where("created_at", "<=", cutoff)
        .orderBy("created_at")
        .limit(maxFoldWrites)
        .get(),
    );
    for (const delta of stale.docs) this.note(pendingOf(delta));
    return stale.size;
  }

  /** Folds every pending delta now, this instance's or not, ignoring the interval (the tick). */
  async foldAll(maxPages = 20): Promise<number> {
    let folded = 0;
    for (let page = 0; page < maxPages; page++) {
      const pending = await withDeadline("firestore.deltas.list", this.#options.deadlineMs, () =>
        this.#db
          .collection(activityDeltasCollection)
          .limit(maxFoldWrites / 2)
          .get(),
      );
      if (pending.empty) break;
      const deltas = pending.docs.map(pendingOf);
      folded += await this.#exclusive(() => foldDeltas(this.#db, deltas, this.#options.deadlineMs));
      for (const { ref, delta } of deltas) this.#forget(delta.uid, ref.path);
    }
    return folded;
  }

  /** Stops taking deltas and folds what is waiting, ignoring the interval (shutdown). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#queue;
    // A failed round folds nothing and ends the loop: the sweeper of another instance takes over.
    while (this.#waiting.size > 0 && (await this.#round(true)) > 0);
  }

  #arm(): void {
    if (this.#timer || this.#busy || this.#stopped || this.#waiting.size === 0) return;
    const now = this.#now();
    let at = Number.POSITIVE_INFINITY;
    for (const uid of this.#waiting.keys()) at = Math.min(at, this.#nextFold.get(uid) ?? now);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.#busy = true;
        void this.#round(false).finally(() => {
          this.#busy = false;
          this.#arm();
        });
      },
      Math.max(0, at - now),
    );
  }

  /** Folds one transaction's worth of due users; returns how many deltas it folded. */
  async #round(ignoreInterval: boolean): Promise<number> {
    const now = this.#now();
    for (const [uid, at] of this.#nextFold) if (at <= now) this.#nextFold.delete(uid);
    const users: string[] = [];
    const taken: PendingDelta[] = [];
    for (const [uid, deltas] of this.#waiting) {
      if (!ignoreInterval && this.#nextFold.has(uid)) continue;
      const room = maxFoldWrites - taken.length - users.length - 1;
      if (room <= 0) break;
      users.push(uid);
      taken.push(...[...deltas.values()].slice(0, room));
    }
    if (taken.length === 0) return 0;
    let folded = 0;
    try {
      await this.#exclusive(() => foldDeltas(this.#db, taken, this.#options.deadlineMs));
      for (const { ref, delta } of taken) this.#forget(delta.uid, ref.path);
      folded = taken.length;
    } catch (error) {
      // The deltas stay queued; the interval below is the back-off before the next attempt.
      this.#logger.warn("folding activity failed, will retry", { error, deltas: taken.length });
    }
    const next = this.#now() + this.#options.intervalMs;
    for (const uid of users) this.#nextFold.set(uid, next);
    return folded;
  }

  #forget(uid: string, path: string): void {
    const deltas = this.#waiting.get(uid);
    deltas?.delete(path);
    if (deltas?.size === 0) this.#waiting.delete(uid);
  }

  #exclusive<T>(run: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(run);
    this.#queue = result.catch(() => {});
    return result;
  }
}
