import { type Query, type QueryDocumentSnapshot, Timestamp } from "@google-cloud/firestore";
import { type Clock, systemClock } from "@syncstack/shared";
import {
  type Cursor,
  cursorOf,
  type Feed,
  type Position,
  positionOf,
  queryAfter,
  type ReadTime,
  readTimeOf,
  timestampOf,
} from "./change-feed.ts";

/** One document of a page, with the cursor the client holds once it has it and all before it. */
export interface PageItem {
  doc: QueryDocumentSnapshot;
  cursor: Cursor;
}

/** A page of a feed after a cursor. */
export interface ChangesPage {
  items: PageItem[];
  /** Where the next read starts; undefined only when a read from the start found nothing. */
  cursor: Cursor | undefined;
  hasMore: boolean;
  /** The read time T of every read of the page. */
  readTime: Timestamp;
  /** Read at the time a rescan started on an earlier page (the cursor's `t`), not now. */
  continued: boolean;
  /** Documents read again in the settle window (what exactness costs this page). */
  rescanned: number;
}

export interface ReadChangesOptions {
  limit: number;
  /** A commit becomes visible within this long of its clock (live-changes.ts's settle bound). */
  settleMs: number;
  /** Settle-window documents one page reads at most, so a busy window still makes progress. */
  rescanBudget?: number;
  now?: Clock;
}

/** Firestore reads at a past time only within the hour: a rescan older than this starts over. */
const maxRescanAgeMs = 50 * 60_000;
/** Settle-window documents read per query. */
const rescanChunk = 500;

/**
 * Reads the page of a feed after a cursor (pos, R), every query at one read time T (the
 * first query's, the later ones in read-only transactions at it): first the documents at or before pos that became visible after
 * R (a clock is the time Firestore took the commit's request, so a commit can become visible
 * after a read later than its clock), then the documents after pos. A commit becomes visible
 * within `settleMs` of its clock, so only clocks in (R - settle, pos] are read again, and none
 * when pos <= R - settle. Invariant, for every cursor given and returned: the client holds,
 * at its current version, every document whose clock is at or before pos and whose update
 * time is at or before R. The returned cursor never moves pos back; R becomes T once the
 * window is read through. A window larger than a page or than `rescanBudget` is read over
 * several pages at the first one's read time (the cursor's `w` and `t`), so each page makes
 * progress and a pass ends however busy the window: its last page goes on after pos, and
 * `hasMore` is false once nothing is left as of that read time.
 */
export async function readChanges(
  feed: Feed,
  since: Cursor | undefined,
  options: ReadChangesOptions,
): Promise<ChangesPage> {
  const now = options.now ?? systemClock;
  let cursor = since;
  if (cursor?.t && timestampOf(cursor.t).toMillis() < now() - maxRescanAgeMs) {
    // That read time is past what Firestore keeps: rescan the window whole (may repeat some).
    cursor = { ...positionOf(cursor), ...(cursor.r ? { r: cursor.r } : {}) };
  }
  const at = cursor?.w && cursor.t ? timestampOf(cursor.t) : undefined;
  return new PageRead(feed, options, at).read(cursor);
}

/** One page's reads, all at one read time. */
class PageRead {
  readonly #feed: Feed;
  readonly #limit: number;
  readonly #settleMs: number;
  readonly #rescanBudget: number;
  /** A rescan continued at its first page's read time. */
  readonly #continued: boolean;
  #readTime: Timestamp | undefined;
  readonly items: PageItem[] = [];
  rescanned = 0;

  constructor(feed: Feed, options: ReadChangesOptions, at: Timestamp | undefined) {
    this.#feed = feed;
    this.#limit = options.limit;
    this.#settleMs = options.settleMs;
    this.#rescanBudget = options.rescanBudget ?? 2_000;
    this.#continued = at !== undefined;
    this.#readTime = at;
  }

  async read(cursor: Cursor | undefined): Promise<ChangesPage> {
    if (cursor?.r) {
      const unfinished = await this.#rescan(cursor, cursor.r);
      if (unfinished) return this.#page(unfinished, true);
    }
    // The rescan returns early when it fills the page, so there is room left.
    const rest = this.#limit - this.items.length;
    const docs = await this.#get(
      queryAfter(this.#feed, cursor && positionOf(cursor)).limit(rest + 1),
    );
    for (const doc of docs.slice(0, rest)) {
      const position = cursorOf(doc, this.#feed.clock);
      if (position) this.items.push({ doc, cursor: this.#settled(position) });
    }
    const last = this.items.at(-1)?.cursor ?? (cursor && this.#settled(cursor));
    return this.#page(last, docs.length > rest);
  }

  /**
   * Reads (R - settle, pos] (after `w` when a rescan goes on) for documents updated after R.
   * Returns the cursor to go on from when the page fills or the budget is spent first.
   */
  async #rescan(cursor: Cursor, r: ReadTime): Promise<Cursor | undefined> {
    const since = timestampOf(r);
    const from = Timestamp.fromMillis(since.toMillis() - this.#settleMs);
    const end = new Timestamp(cursor.s, cursor.n);
    if (compareTimes(from, end) >= 0) return undefined;
    const pos = positionOf(cursor);
    const first = this.items.length;
    let after = cursor.w;
    for (;;) {
      const chunk = Math.min(rescanChunk, this.#rescanBudget - this.rescanned);
      const window = this.#feed.query.endAt(end, cursor.id);
      const docs = await this.#get(
        (after
          ? window.startAfter(new Timestamp(after.s, after.n), after.id)
          : window.startAfter(from)
        ).limit(chunk),
      );
      for (const doc of docs) {
        this.rescanned++;
        after = cursorOf(doc, this.#feed.clock) ?? after;
        if (!after || compareTimes(doc.updateTime, since) <= 0) continue;
        this.items.push({ doc, cursor: { ...pos, r, w: after, t: this.#now() } });
        if (this.items.length === this.#limit) return { ...pos, r, w: after, t: this.#now() };
      }
      if (docs.length < chunk) break;
      if (after && this.rescanned >= this.#rescanBudget) {
        return { ...pos, r, w: after, t: this.#now() };
      }
    }
    // Read through: the window's last document completes it.
    const last = this.items.length > first ? this.items.at(-1) : undefined;
    if (last) last.cursor = this.#settled(pos);
    return undefined;
  }

  /** Runs a query at the page's read time; the first query sets it. */
  async #get(query: Query): Promise<QueryDocumentSnapshot[]> {
    const readTime = this.#readTime;
    // A read-only transaction at a read time begins nothing on the server: each read is at it.
    const snapshot = readTime
      ? await query.firestore.runTransaction((transaction) => transaction.get(query), {
          readOnly: true,
          readTime,
        })
      : await query.get();
    this.#readTime ??= snapshot.readTime;
    return snapshot.docs;
  }

  /** The page's read time T (every read of the page is at it). */
  #now(): ReadTime {
    return readTimeOf(this.#at());
  }

  #at(): Timestamp {
    if (!this.#readTime) throw new Error("the page's read time is known after its first read");
    return this.#readTime;
  }

  /** A position the client holds everything up to as of this page's read time. */
  #settled(position: Position): Cursor {
    return { ...positionOf(position), r: this.#now() };
  }

  #page(cursor: Cursor | undefined, hasMore: boolean): ChangesPage {
    return {
      items: this.items,
      cursor,
      hasMore,
      readTime: this.#at(),
      continued: this.#continued,
      rescanned: this.rescanned,
    };
  }
}

/** Orders Firestore times. */
export function compareTimes(a: Timestamp, b: Timestamp): number {
  return a.seconds - b.seconds || a.nanoseconds - b.nanoseconds;
}
