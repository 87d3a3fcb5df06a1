import type { QueryDocumentSnapshot, Timestamp } from "@google-cloud/firestore";
import { AppError, type Logger, withDeadline } from "@syncstack/shared";
import type { Response } from "express";
import {
  type Cursor,
  compareCursors,
  cursorOf,
  encodeCursor,
  type Feed,
  itemOf,
  positionOf,
  readTimeOf,
  timestampOf,
} from "./change-feed.ts";
import { compareTimes, readChanges } from "./feed-page.ts";
import type { LiveChanges } from "./live-changes.ts";

/** Why the server ends a stream, and how long the client waits before resuming. */
export type EndReason = "lifetime" | "shutdown" | "slow";

export interface StreamOptions {
  heartbeatMs: number;
  maxLifetimeMs: number;
  maxConnections: number;
  /** Bytes queued for a client past which it is disconnected (it resumes from its last cursor). */
  maxBufferBytes: number;
  deadlineMs: number;
  /** The settle bound of live-changes.ts, for catch-up's reads (feed-page.ts). */
  settleMs: number;
  /** Catch-ups one instance runs at once; streams past it wait their turn (heartbeats go on). */
  maxCatchUps: number;
}

/**
 * The wait a client is told before it resumes, by why its stream ended. A draining instance's
 * streams all end at once: each is told a random 1-5 s, so their clients do not come back to
 * the other instances in one burst of catch-ups.
 */
const retryAfterEnd: Record<EndReason, number> = {
  lifetime: 0,
  get shutdown() {
    return 1_000 + Math.floor(Math.random() * 4_000);
  },
  slow: 5_000,
};

/**
 * The instance's open change streams: the connection limit, and ending them all when the
 * server drains (SIGTERM), each with an `end` event telling the client to resume elsewhere.
 */
export class ChangeStreams {
  readonly #open = new Set<Connection>();
  /**
   * Streams sending (headers sent, not ended): one timer for them all pings each every
   * `heartbeatMs` and ends it at its lifetime, rather than two timers per stream.
   */
  readonly #ticking = new Set<Connection>();
  #ticker: NodeJS.Timeout | undefined;
  /** Streams still reading (subscribing or catching up), which a drain waits for. */
  readonly #reading = new Set<Promise<void>>();
  /** Streams waiting for a catch-up slot, first come first served. */
  readonly #waiting: (() => void)[] = [];
  #catchingUp = 0;
  #fromListener = 0;
  #peak = { running: 0, waiting: 0 };
  #draining = false;

  readonly live: LiveChanges;
  readonly logger: Logger;
  readonly options: StreamOptions;

  constructor(live: LiveChanges, logger: Logger, options: StreamOptions) {
    this.live = live;
    this.logger = logger;
    this.options = options;
  }

  get size(): number {
    return this.#open.size;
  }

  /**
   * Catch-ups reading now and waiting for a turn, the most of each at once so far, and how many
   * were served from a shared listener's snapshot without a read (tests, benchmarks).
   */
  get catchUps(): {
    running: number;
    waiting: number;
    peak: { running: number; waiting: number };
    fromListener: number;
  } {
    return {
      running: this.#catchingUp,
      waiting: this.#waiting.length,
      peak: { ...this.#peak },
      fromListener: this.#fromListener,
    };
  }

  /** Counts a catch-up served from a listener's snapshot. */
  servedFromListener(): void {
    this.#fromListener++;
  }

  /**
   * Runs a stream's catch-up once fewer than `maxCatchUps` are running, so that streams opened
   * together (clients coming back from a drained instance) do not all query at once and pass
   * their deadline. A catch-up holds its slot until it ends or for `deadlineMs`, whichever
   * comes first: one paced to a client that stopped reading must not hold it for its lifetime.
   */
  async catchUp(work: () => Promise<void>): Promise<void> {
    if (this.#catchingUp >= this.options.maxCatchUps) {
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        this.#peak.waiting = Math.max(this.#peak.waiting, this.#waiting.length);
      });
    } else {
      this.#catchingUp++;
    }
    this.#peak.running = Math.max(this.#peak.running, this.#catchingUp);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(lease);
      // The slot passes to the next stream waiting, if any.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#catchingUp--;
    };
    const lease = setTimeout(release, this.options.deadlineMs);
    lease.unref();
    try {
      await work();
    } finally {
      release();
    }
  }

  /** Ends every stream (reason shutdown), refuses new ones, and waits for their reads to settle. */
  async drain(): Promise<void> {
    this.#draining = true;
    for (const connection of [...this.#open]) connection.end("shutdown");
    await Promise.allSettled([...this.#reading]);
  }

  /** Streams the feed after `since` to the response: catch-up, then live. */
  async stream(
    feed: Feed,
    since: Cursor | undefined,
    pageSize: number,
    response: Response,
  ): Promise<void> {
    if (this.#draining) {
      throw new AppError("unavailable", "the instance is shutting down: reconnect");
    }
    if (this.#open.size >= this.options.maxConnections) {
      throw new AppError(
        "unavailable",
        `this instance holds its limit of ${this.options.maxConnections} change streams: retry later`,
      );
    }
    const connection = new Connection(this, feed, since, response);
    this.#open.add(connection);
    response.on("close", () => {
      connection.close();
      this.#open.delete(connection);
    });
    const reading = connection.run(pageSize);
    this.#reading.add(reading);
    try {
      await reading;
    } finally {
      this.#reading.delete(reading);
    }
  }

  /** Pings and ends `connection` on time from now on, until `untick`. */
  tick(connection: Connection): void {
    this.#ticking.add(connection);
    if (this.#ticker) return;
    const { heartbeatMs, maxLifetimeMs } = this.options;
    // Fine enough that a ping or an end is at most a tenth of the lifetime or a second late.
    const everyMs = Math.max(10, Math.min(heartbeatMs, 1_000, Math.floor(maxLifetimeMs / 10)));
    this.#ticker = setInterval(() => {
      const now = performance.now();
      for (const ticking of this.#ticking) ticking.onTick(now);
    }, everyMs);
  }

  untick(connection: Connection): void {
    this.#ticking.delete(connection);
    if (this.#ticking.size > 0 || !this.#ticker) return;
    clearInterval(this.#ticker);
    this.#ticker = undefined;
  }
}

/** Versions a stream remembers having sent; past it, it starts over (a repeat is then possible). */
const maxSentVersions = 100_000;

/** One client's stream. */
class Connection {
  /**
   * What the client holds (feed-page.ts's invariant): every document whose clock is at or
   * before this position and whose update time is at or before its read time `r`. Each event's
   * id is this cursor once the client has the event; it never moves the position back.
   */
  #last: Cursor | undefined;
  /** Live changes that arrived during catch-up, latest version of each document. */
  #pending: Map<string, QueryDocumentSnapshot> | undefined = new Map();
  /** The read time of the last snapshot whose changes are in `#pending`. */
  #pendingReadTime: Timestamp | undefined;
  /**
   * The version this stream sent of each document (at most `maxSentVersions`): a live change is
   * new when its version is, whatever its clock says. Clocks are server timestamps, the time
   * Firestore took a commit's request, so two instances' commits can become visible out of
   * clock order; a change arriving after one with a later clock is still sent, under the last
   * position.
   */
  #sent: Map<string, number> | undefined;
  #closed = false;
  /** When (performance.now()) the next ping is due, and when the stream ends (its lifetime). */
  #pingAt = 0;
  #endAt = 0;
  #unsubscribe: (() => void) | undefined;

  readonly streams: ChangeStreams;
  readonly feed: Feed;
  readonly response: Response;

  constructor(streams: ChangeStreams, feed: Feed, since: Cursor | undefined, response: Response) {
    this.streams = streams;
    this.feed = feed;
    this.response = response;
    this.#last = since;
  }

  async run(pageSize: number): Promise<void> {
    const { options, logger } = this.streams;
    const response = this.response;
    // Subscribed before catching up, so every commit after the catch-up's last read reaches
    // this stream; subscribed before the headers, so a failure is still a JSON error.
    this.#unsubscribe = await this.streams.live.subscribe(this.feed, (docs, readTime) =>
      this.#onLive(docs, readTime),
    );
    if (this.#closed) {
      this.#unsubscribe();
      return;
    }
    response.status(200).set({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      // The socket closes with the stream: a draining server then has nothing left to wait for.
      connection: "close",
      "x-accel-buffering": "no",
    });
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    this.#write("retry: 1000\n\n");
    const now = performance.now();
    this.#pingAt = now + options.heartbeatMs;
    // Up to a tenth less than the maximum, so streams opened together do not end together.
    this.#endAt = now + options.maxLifetimeMs * (1 - Math.random() * 0.1);
    this.streams.tick(this);
    // A client resuming from a recent cursor is caught up from the instance's listener: no
    // read, no turn to wait for.
    if (this.#catchUpFromListener(pageSize)) return;
    try {
      await this.streams.catchUp(() =>
        this.#closed ? Promise.resolve() : this.#catchUp(pageSize),
      );
    } catch (error) {
      // The headers are sent: the client sees the stream drop and resumes from its last id.
      logger.error("change stream catch-up failed", { error, collection: this.feed.collection });
      this.close();
      response.end();
    }
  }

  /**
   * Reads the feed page after page from the client's cursor (late commits at or before it
   * included), then sends what arrived live meanwhile. The last page has no more after it, so
   * once it is sent the client holds everything visible at its read time, which was after
   * this stream subscribed: every later commit is in a snapshot the stream gets.
   */
  async #catchUp(pageSize: number): Promise<void> {
    const { deadlineMs, settleMs } = this.streams.options;
    /** The first read made now rather than at the time of a rescan the client's cursor began. */
    let firstRead: Timestamp | undefined;
    for (;;) {
      const page = await withDeadline("firestore.changes", deadlineMs, () =>
        readChanges(this.feed, this.#last, { limit: pageSize, settleMs }),
      );
      if (!page.continued) firstRead ??= page.readTime;
      for (const { doc, cursor } of page.items) {
        if (this.#closed) return;
        // Catch-up paces itself to the client rather than queueing in memory.
        if (!this.#send(doc, cursor)) await this.#drained();
      }
      if (this.#closed) return;
      this.#last = page.cursor;
      // A last page read before this stream subscribed would leave a gap before the listener.
      if (!page.hasMore && firstRead && compareTimes(page.readTime, firstRead) >= 0) break;
    }
    this.#sendPending();
  }

  /** Sends what arrived live during catch-up; from then on live changes go straight out. */
  #sendPending(): void {
    const pending = [...(this.#pending?.values() ?? [])];
    const readTime = this.#pendingReadTime;
    this.#pending = undefined;
    if (readTime) this.#sendBatch(sortByPosition(pending, this.feed), readTime);
  }

  /**
   * Sends what the client is missing from the latest snapshot of the feed's shared listener,
   * taken once this stream is subscribed (every later snapshot reaches it), then what arrived
   * live meanwhile; false when that snapshot does not cover the client's cursor or holds more
   * than a page for it (a read, paced to the client, does those).
   */
  #catchUpFromListener(pageSize: number): boolean {
    const since = this.#last;
    const recent = since && this.streams.live.recent(this.feed, since);
    if (!recent || this.#closed) return false;
    const fresh = this.#fresh(recent.docs);
    if (fresh.length > pageSize) return false;
    this.streams.servedFromListener();
    this.#sendFresh(fresh, recent.readTime);
    this.#sendPending();
    return true;
  }

  /** The streams' shared timer: a ping every `heartbeatMs`, and the end at the lifetime. */
  onTick(now: number): void {
    if (this.#closed) {
      this.streams.untick(this);
      return;
    }
    if (now >= this.#endAt) {
      this.end("lifetime");
      return;
    }
    if (now < this.#pingAt) return;
    const { heartbeatMs } = this.streams.options;
    this.#pingAt += heartbeatMs;
    // A ticker run late (a busy event loop) sends one ping, not one per period missed.
    if (this.#pingAt <= now) this.#pingAt = now + heartbeatMs;
    this.#write(": ping\n\n");
    this.#checkBuffer();
  }

  /** Past the cap the client is not keeping up: it resumes from its cursor later. */
  #checkBuffer(): boolean {
    if (this.response.writableLength <= this.streams.options.maxBufferBytes) return true;
    this.end("slow");
    return false;
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.response.off("drain", done);
        this.response.off("close", done);
        resolve();
      };
      this.response.on("drain", done);
      this.response.on("close", done);
    });
  }

  #onLive(docs: QueryDocumentSnapshot[], readTime: Timestamp): void {
    if (this.#closed) return;
    if (this.#pending) {
      for (const doc of docs) this.#pending.set(doc.id, doc);
      this.#pendingReadTime = readTime;
      return;
    }
    this.#sendBatch(docs, readTime);
  }

  /**
   * Sends the live changes of snapshots up to `readTime`, in feed order, except those the
   * client holds. A change whose clock is at or before the position sent is a commit that
   * became visible late: it goes out under that position. An event's id takes the snapshot's
   * read time only when no later change of the batch is at or before its position; until
   * then it says how far the batch got (`w` at `t`), so a client resuming from it gets the
   * rest of the batch and nothing twice.
   */
  #sendBatch(docs: QueryDocumentSnapshot[], readTime: Timestamp): void {
    this.#sendFresh(this.#fresh(docs), readTime);
  }

  /** The changes of `docs` (in feed order) the client does not hold, with their positions. */
  #fresh(docs: QueryDocumentSnapshot[]): { doc: QueryDocumentSnapshot; at: Cursor }[] {
    return docs.flatMap((doc) => {
      const at = cursorOf(doc, this.feed.clock);
      return at && !this.#holds(doc, at) ? [{ doc, at }] : [];
    });
  }

  #sendFresh(fresh: { doc: QueryDocumentSnapshot; at: Cursor }[], readTime: Timestamp): void {
    const last = this.#last;
    const batchTime =
      last?.r && compareTimes(timestampOf(last.r), readTime) > 0 ? last.r : readTimeOf(readTime);
    for (const [index, { doc, at }] of fresh.entries()) {
      if (this.#closed) return;
      // Live changes cannot wait for one client, nor be queued for it without bound; checked
      // before each send, so one change larger than the cap still goes out.
      if (!this.#checkBuffer()) return;
      const held = this.#last;
      const position = held && compareCursors(at, held) <= 0 ? positionOf(held) : at;
      const next = fresh[index + 1]?.at;
      const cursor: Cursor =
        next && compareCursors(next, position) <= 0 && held?.r
          ? { ...position, r: held.r, w: at, t: batchTime }
          : { ...position, r: batchTime };
      this.#send(doc, cursor);
    }
    if (!this.#closed && this.#last) this.#last = { ...positionOf(this.#last), r: batchTime };
  }

  /** True when the client has this version of the document: sent by this stream, or held. */
  #holds(doc: QueryDocumentSnapshot, at: Cursor): boolean {
    const sent = this.#sent?.get(doc.id);
    if (sent !== undefined && sent >= Number(doc.get("version") ?? 0)) return true;
    const last = this.#last;
    if (!last || compareCursors(at, last) > 0) return false;
    return !last.r || compareTimes(doc.updateTime, timestampOf(last.r)) <= 0;
  }

  /** Sends a document as an event whose id is `cursor`; false when the client is behind. */
  #send(doc: QueryDocumentSnapshot, cursor: Cursor): boolean {
    this.#last = cursor;
    this.#sent ??= new Map();
    if (this.#sent.size >= maxSentVersions) this.#sent.clear();
    this.#sent.set(doc.id, Number(doc.get("version") ?? 0));
    return this.#write(
      `id: ${encodeCursor(cursor)}\nevent: change\ndata: ${JSON.stringify(itemOf(doc))}\n\n`,
    );
  }

  #write(text: string): boolean {
    if (this.#closed) return true;
    return this.response.write(text);
  }

  /** Ends the stream with an `end` event saying why and when to resume. */
  end(reason: EndReason): void {
    if (this.#closed) return;
    const data = JSON.stringify({ reason, retry_ms: retryAfterEnd[reason] });
    this.#write(`event: end\ndata: ${data}\n\n`);
    this.close();
    this.response.end();
    // A client that does not read would hold the socket until its queue drains: never.
    const timer = setTimeout(() => this.response.destroy(), reason === "slow" ? 1_000 : 10_000);
    timer.unref();
    this.response.once("close", () => clearTimeout(timer));
    this.streams.logger.info("change stream ended", {
      reason,
      collection: this.feed.collection,
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.streams.untick(this);
    this.#unsubscribe?.();
  }
}

function sortByPosition(docs: QueryDocumentSnapshot[], feed: Feed): QueryDocumentSnapshot[] {
  return docs
    .map((doc) => ({ doc, at: cursorOf(doc, feed.clock) }))
    .sort((a, b) => (a.at && b.at ? compareCursors(a.at, b.at) : 0))
    .map((entry) => entry.doc);
}
