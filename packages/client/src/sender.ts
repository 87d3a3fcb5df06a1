import { backoffMs } from "./backoff.ts";
import type { DocumentCache } from "./cache.ts";
import type { Emitter } from "./emitter.ts";
import { type ApiResponse, errorOf, type Http, isRetryableStatus } from "./http.ts";
import type { Outbox, PendingBatch } from "./outbox.ts";
import { Sleeper } from "./sleeper.ts";
import type { Change, ClientEvents, ConflictResolution, OutboxEntry } from "./types.ts";

/** How the sender paces itself. */
export interface SenderOptions {
  backoff: { baseMs: number; maxMs: number };
  maxBatchChanges: number;
  onConflict?: (
    change: Change,
    currentVersion: number | undefined,
  ) => ConflictResolution | Promise<ConflictResolution>;
  /** Reads a document from the server into the cache (after a dropped conflict). */
  refresh(collection: string, id: string): Promise<void>;
  /** Tells the client a document's visible state may have changed. */
  changed(collection: string, id: string, origin: "local" | "server"): void;
}

/** The outcome of one request: progress, or a wait before trying again. */
type Step = { retry: false } | { retry: true; retryAfterMs?: number; error: string };

const progress: Step = { retry: false };

function encode(id: string): string {
  return encodeURIComponent(id);
}

/** The `:batch` item of a merge or a delete. */
function batchItem(change: Change): unknown {
  const condition =
    change.expectedVersion === undefined ? {} : { expected_version: change.expectedVersion };
  if (change.op === "delete") {
    return { op: "delete", collection: change.collection, document: change.id, ...condition };
  }
  if (change.op === "put") {
    return { collection: change.collection, document: change.id, data: change.data, ...condition };
  }
  throw new Error("a patch is sent through PATCH /v1/documents, never in a batch");
}

/**
 * Drains the outbox: the oldest change of each document goes out (merges and deletes in
 * `:batch` requests, patches one by one through `PATCH /v1/documents`), so a later change to
 * a document is sent only once the earlier one is acknowledged; failures are retried with
 * exponential backoff and jitter, at least as late as `Retry-After` says.
 */
export class Sender {
  readonly #outbox: Outbox;
  readonly #http: Http;
  readonly #cache: DocumentCache;
  readonly #events: Emitter<ClientEvents>;
  readonly #options: SenderOptions;
  readonly #sleeper = new Sleeper();
  #running: Promise<void> | undefined;
  #online = true;
  #closed = false;
  #abort: AbortController | undefined;
  #preferPatch = false;
  #batchLimit: number;
  #idle: Array<() => void> = [];

  constructor(
    outbox: Outbox,
    http: Http,
    cache: DocumentCache,
    events: Emitter<ClientEvents>,
    options: SenderOptions,
  ) {
    this.#outbox = outbox;
    this.#http = http;
    this.#cache = cache;
    this.#events = events;
    this.#options = options;
    this.#batchLimit = options.maxBatchChanges;
  }

  /** Starts draining if it is not already. */
  kick(): void {
    if (this.#closed || !this.#online || this.#running) return;
    this.#running = this.#drain().finally(() => {
      this.#running = undefined;
      if (this.#outbox.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
      else if (this.#online && !this.#closed) this.kick();
    });
  }

  setOnline(online: boolean): void {
    this.#online = online;
    if (online) {
      this.#sleeper.wake();
      this.kick();
    } else {
      this.#abort?.abort();
      this.#sleeper.wake();
      this.#state("offline");
    }
  }

  /** Resolves once the outbox is empty. */
  idle(): Promise<void> {
    if (this.#outbox.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#abort?.abort();
    this.#sleeper.wake();
    await this.#running;
  }

  async #drain(): Promise<void> {
    let attempt = 0;
    while (!this.#closed && this.#online && (this.#outbox.batch || this.#outbox.size > 0)) {
      this.#state("sending");
      let step: Step;
      this.#abort = new AbortController();
      try {
        step = await this.#next(this.#abort.signal);
      } catch (error) {
        step = { retry: true, error: `the request failed: ${(error as Error).message}` };
      }
      if (!step.retry) {
        attempt = 0;
        continue;
      }
      if (this.#closed || !this.#online) break;
      const wait = Math.max(step.retryAfterMs ?? 0, backoffMs(attempt++, this.#options.backoff));
      this.#state("waiting", { retryInMs: wait, error: step.error });
      await this.#sleeper.sleep(wait);
    }
    this.#state(this.#online ? "idle" : "offline");
  }

  #next(signal: AbortSignal): Promise<Step> {
    const batch = this.#outbox.batch;
    if (batch) return this.#sendBatch(batch, signal);
    const heads = this.#outbox.heads();
    const patch = heads.find((entry) => entry.change.op === "patch");
    const merges = heads.filter((entry) => entry.change.op !== "patch");
    this.#preferPatch = !this.#preferPatch;
    if (patch && (this.#preferPatch || merges.length === 0)) return this.#sendPatch(patch, signal);
    return this.#startBatch(merges.slice(0, this.#batchLimit), signal);
  }

  async #startBatch(entries: OutboxEntry[], signal: AbortSignal): Promise<Step> {
    const batch: PendingBatch = {
      key: crypto.randomUUID(),
      items: entries.map((entry) => ({ seq: entry.seq, key: entry.key })),
      body: { changes: entries.map((entry) => batchItem(entry.change)) },
    };
    // Persisted before it is sent: after a crash it goes again with the same key and body.
    await this.#outbox.setBatch(batch);
    return this.#sendBatch(batch, signal);
  }

  async #sendBatch(batch: PendingBatch, signal: AbortSignal): Promise<Step> {
    const response = await this.#http.request("POST", "/v1/sync:batch", {
      body: batch.body,
      headers: { "idempotency-key": batch.key },
      signal,
    });
    if (response.status === 200) {
      const results = (response.body as { results?: BatchResult[] }).results ?? [];
      const acked: Acknowledged[] = [];
      const refused: Array<{ entry: OutboxEntry; result: BatchResult }> = [];
      let open = false;
      for (const result of results) {
        if (!this.#outbox.isOpen(batch, result.index)) continue;
        const seq = batch.items[result.index]?.seq;
        const entry = seq === undefined ? undefined : this.#outbox.find(seq);
        if (!entry) continue;
        if (result.status === 200) {
          acked.push({
            entry,
            version: (result.result as { version?: number } | undefined)?.version,
          });
        } else if (result.retryable) open = true;
        else refused.push({ entry, result });
      }
      // The acknowledgements in one storage write, which also ends the batch when nothing
      // else is left of it: one write (one sync to disk) per batch, not one per change.
      const finished = !open && refused.length === 0;
      await this.#acknowledge(acked, finished);
      for (const { entry, result } of refused) {
        await this.#refused(entry, result.status, result.error);
      }
      if (open) return { retry: true, error: "some changes failed for now" };
      if (!finished) await this.#outbox.setBatch(undefined);
      return progress;
    }
    if (response.status === 413 && batch.items.length > 1) {
      // Never applied (the body was refused whole): send fewer at a time under new keys.
      this.#batchLimit = Math.max(1, Math.floor(batch.items.length / 2));
      await this.#outbox.setBatch(undefined);
      return progress;
    }
    if (isRetryableStatus(response.status) || response.status === 401) {
      return this.#retryLater(response);
    }
    // The whole batch refused (a client bug): each change is reported and leaves the outbox.
    for (const [index, item] of batch.items.entries()) {
      const entry = this.#outbox.isOpen(batch, index) ? this.#outbox.find(item.seq) : undefined;
      if (entry) await this.#refused(entry, response.status, errorOf(response));
    }
    await this.#outbox.setBatch(undefined);
    return progress;
  }

  async #sendPatch(entry: OutboxEntry, signal: AbortSignal): Promise<Step> {
    const change = entry.change as Extract<Change, { op: "patch" }>;
    const response = await this.#http.request(
      "PATCH",
      `/v1/documents/${encode(change.collection)}/${encode(change.id)}`,
      {
        body: change.patch,
        headers: {
          "content-type": "application/merge-patch+json",
          "idempotency-key": entry.key,
          ...(change.expectedVersion === undefined
            ? {}
            : { "if-match": `"${change.expectedVersion}"` }),
        },
        signal,
      },
    );
    if (response.status === 200) {
      await this.#ack(entry, (response.body as { version?: number }).version);
      return progress;
    }
    if (isRetryableStatus(response.status) || response.status === 401) {
      return this.#retryLater(response);
    }
    await this.#refused(entry, response.status, errorOf(response));
    return progress;
  }

  #retryLater(response: ApiResponse): Step {
    const error = errorOf(response);
    return {
      retry: true,
      error: `${response.status} ${error.message}`,
      ...(response.retryAfterMs === undefined ? {} : { retryAfterMs: response.retryAfterMs }),
    };
  }

  async #ack(entry: OutboxEntry, version: number | undefined): Promise<void> {
    await this.#acknowledge([{ entry, version }], false);
  }

  /** Removes acknowledged changes and updates the cache in one storage write (and the batch). */
  async #acknowledge(acked: readonly Acknowledged[], endBatch: boolean): Promise<void> {
    if (acked.length === 0 && !endBatch) return;
    const cacheOps = acked.flatMap(({ entry, version }) =>
      this.#cache.acknowledged(entry.change, version),
    );
    await this.#outbox.removeMany(
      acked.map(({ entry }) => entry.seq),
      cacheOps,
      { endBatch },
    );
    for (const { entry, version } of acked) {
      this.#events.emit("ack", { change: entry.change, version });
      this.#options.changed(entry.change.collection, entry.change.id, "server");
    }
  }

  async #refused(
    entry: OutboxEntry,
    status: number,
    error: { code: string; message: string; details?: unknown } | undefined,
  ): Promise<void> {
    const { change } = entry;
    if (status === 409) {
      const details = error?.details as { current_version?: unknown } | undefined;
      const current =
        typeof details?.current_version === "number" ? details.current_version : undefined;
      await this.#conflict(entry, current);
      return;
    }
    await this.#outbox.remove(entry.seq);
    this.#events.emit("rejected", {
      change,
      status,
      code: error?.code ?? `http_${status}`,
      message: error?.message ?? `the server answered ${status}`,
    });
    this.#options.changed(change.collection, change.id, "server");
  }

  async #conflict(entry: OutboxEntry, currentVersion: number | undefined): Promise<void> {
    const { change } = entry;
    let resolution: ConflictResolution = "drop";
    try {
      resolution = (await this.#options.onConflict?.(change, currentVersion)) ?? "drop";
    } catch {
      // A throwing handler is the default's drop: the change must not block the outbox.
    }
    this.#events.emit("conflict", { change, currentVersion, resolution });
    if (resolution === "drop") {
      await this.#outbox.remove(entry.seq);
      try {
        await this.#options.refresh(change.collection, change.id);
      } catch {
        // The feed brings the server's copy anyway.
      }
    } else if (resolution === "retry-unconditional") {
      const { expectedVersion: _, ...unconditional } = change;
      await this.#outbox.replace(entry.seq, unconditional as Change);
    } else {
      await this.#outbox.replace(entry.seq, {
        op: "put",
        collection: change.collection,
        id: change.id,
        data: resolution.data,
        ...(currentVersion === undefined ? {} : { expectedVersion: currentVersion }),
      });
    }
    this.#options.changed(change.collection, change.id, "server");
  }

  #state(
    state: "idle" | "sending" | "waiting" | "offline",
    extra: { retryInMs?: number; error?: string } = {},
  ): void {
    this.#events.emit("sync-state", {
      kind: "outbox",
      state,
      pending: this.#outbox.size,
      ...extra,
    });
  }
}

interface Acknowledged {
  entry: OutboxEntry;
  version: number | undefined;
}

interface BatchResult {
  index: number;
  status: number;
  result?: unknown;
  retryable?: boolean;
  error?: { code: string; message: string; details?: unknown };
}
