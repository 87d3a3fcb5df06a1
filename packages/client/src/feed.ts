import { backoffMs } from "./backoff.ts";
import type { DocumentCache } from "./cache.ts";
import type { Emitter } from "./emitter.ts";
import { errorOf, type Http } from "./http.ts";
import { Sleeper } from "./sleeper.ts";
import { SseParser } from "./sse.ts";
import type { ClientEvents, FeedItem, SyncState } from "./types.ts";

/** How a feed paces itself. */
export interface FeedOptions {
  /** Between polls of the JSON feed when there is no stream. */
  pollIntervalMs: number;
  /** How long to poll before trying the stream again, once it was unavailable. */
  streamRetryMs: number;
  pageSize: number;
  backoff: { baseMs: number; maxMs: number };
  /** Tells the client a document's visible state may have changed. */
  changed(collection: string, id: string, origin: "local" | "server"): void;
}

type FeedState = Extract<SyncState, { kind: "feed" }>["state"];

/** A 410 from the feed: the cursor is past the tombstone retention. */
class Gone extends Error {}

/** A failure worth a backoff (network, 5xx, 429, ...); `retryAfterMs` from the server. */
class Retry extends Error {
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Keeps one collection's cache current: the live stream (`GET /v1/changes` with
 * `Accept: text/event-stream`, resuming with `Last-Event-ID`), or polling the JSON feed while
 * the stream is unavailable, always from the last cursor; a 410 clears the copy and resyncs
 * from the start.
 */
export class Feed {
  readonly #collection: string;
  readonly #http: Http;
  readonly #cache: DocumentCache;
  readonly #events: Emitter<ClientEvents>;
  readonly #options: FeedOptions;
  readonly #sleeper = new Sleeper();
  #online: boolean;
  #closed = false;
  #abort: AbortController | undefined;
  #pollUntil = 0;
  #running: Promise<void>;

  constructor(
    collection: string,
    http: Http,
    cache: DocumentCache,
    events: Emitter<ClientEvents>,
    options: FeedOptions & { online: boolean },
  ) {
    this.#collection = collection;
    this.#http = http;
    this.#cache = cache;
    this.#events = events;
    this.#options = options;
    this.#online = options.online;
    this.#running = this.#run();
  }

  setOnline(online: boolean): void {
    this.#online = online;
    if (!online) this.#abort?.abort();
    this.#sleeper.wake();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    this.#sleeper.wake();
    await this.#running;
    this.#state("closed");
  }

  async #run(): Promise<void> {
    let attempt = 0;
    let streamFailures = 0;
    while (!this.#closed) {
      if (!this.#online) {
        this.#state("offline");
        await this.#sleeper.sleep(3_600_000);
        continue;
      }
      this.#abort = new AbortController();
      try {
        if (Date.now() >= this.#pollUntil) {
          this.#state("connecting");
          await this.#stream(this.#abort.signal, () => {
            attempt = 0;
            streamFailures = 0;
          });
        } else {
          await this.#pollAll(this.#abort.signal);
          attempt = 0;
          this.#state("polling");
          await this.#sleeper.sleep(this.#options.pollIntervalMs);
        }
      } catch (error) {
        if (this.#closed || !this.#online) continue;
        if (error instanceof Gone) {
          await this.#resync();
          continue;
        }
        // A stream that keeps failing is as good as none: poll for a while.
        if (Date.now() >= this.#pollUntil && ++streamFailures >= 3) {
          streamFailures = 0;
          this.#pollUntil = Date.now() + this.#options.streamRetryMs;
        }
        const retryAfter = error instanceof Retry ? (error.retryAfterMs ?? 0) : 0;
        const wait = Math.max(retryAfter, backoffMs(attempt++, this.#options.backoff));
        this.#state("waiting", (error as Error).message);
        await this.#sleeper.sleep(wait);
      }
    }
  }

  /** A 410: the copy may miss deletions, so it goes, and the feed starts over. */
  async #resync(): Promise<void> {
    this.#state("resyncing");
    for (const id of await this.#cache.clear(this.#collection)) {
      this.#options.changed(this.#collection, id, "server");
    }
  }

  #path(): string {
    const since = this.#cache.cursor(this.#collection);
    const query = new URLSearchParams({ collection: this.#collection });
    if (since) query.set("since", since);
    return `/v1/changes?${query}`;
  }

  async #apply(items: FeedItem[], cursor: string | null | undefined): Promise<void> {
    for (const id of await this.#cache.applyFeed(this.#collection, items, cursor)) {
      this.#options.changed(this.#collection, id, "server");
    }
  }

  /** Reads the JSON feed page by page until it has no more. */
  async #pollAll(signal: AbortSignal): Promise<void> {
    for (;;) {
      const response = await this.#http.request(
        "GET",
        `${this.#path()}&limit=${this.#options.pageSize}`,
        { signal },
      );
      if (response.status === 410) throw new Gone();
      if (response.status !== 200) {
        throw new Retry(`${response.status} ${errorOf(response).message}`, response.retryAfterMs);
      }
      const page = response.body as {
        changes: FeedItem[];
        next_cursor: string | null;
        has_more: boolean;
      };
      await this.#apply(page.changes, page.next_cursor);
      if (!page.has_more) return;
    }
  }

  /** Follows the stream until it ends; falls back to polling when the server has none. */
  async #stream(signal: AbortSignal, connected: () => void): Promise<void> {
    const since = this.#cache.cursor(this.#collection);
    const response = await this.#http.raw(this.#path(), {
      headers: { accept: "text/event-stream", ...(since ? { "last-event-id": since } : {}) },
      signal,
    });
    const type = response.headers.get("content-type") ?? "";
    if (response.status === 410) {
      await response.body?.cancel();
      throw new Gone();
    }
    if (response.status !== 200) {
      const text = await response.text();
      let message = text;
      try {
        message = (JSON.parse(text) as { error: { message: string } }).error.message;
      } catch {
        // the text as is
      }
      const retryAfter = Number(response.headers.get("retry-after"));
      throw new Retry(
        `${response.status} ${message}`,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1_000 : undefined,
      );
    }
    if (!type.startsWith("text/event-stream")) {
      // No stream on this server (an answer of the JSON feed): poll for a while.
      const page = (await response.json()) as { changes: FeedItem[]; next_cursor: string | null };
      await this.#apply(page.changes, page.next_cursor);
      this.#pollUntil = Date.now() + this.#options.streamRetryMs;
      connected();
      return;
    }
    this.#state("streaming");
    connected();
    let reconnectMs = 1_000;
    const parser = new SseParser(since);
    const reader = response.body?.pipeThrough(new TextDecoderStream()).getReader();
    if (!reader) throw new Retry("the stream has no body");
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        for (const event of parser.push(value)) {
          if (event.retry !== undefined) reconnectMs = event.retry;
          if (event.event === "change") {
            await this.#apply([JSON.parse(event.data) as FeedItem], event.id);
          } else if (event.event === "end") {
            const end = JSON.parse(event.data) as { retry_ms?: number };
            if (typeof end.retry_ms === "number") reconnectMs = end.retry_ms;
          }
        }
      }
    } finally {
      reader.releaseLock();
    }
    // The server ended the stream (lifetime, shutdown, slow reader): reconnect from the cursor.
    await this.#sleeper.sleep(reconnectMs);
  }

  #state(state: FeedState, error?: string): void {
    this.#events.emit("sync-state", {
      kind: "feed",
      collection: this.#collection,
      state,
      ...(error === undefined ? {} : { error }),
    });
  }
}
