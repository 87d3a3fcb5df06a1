import { DocumentCache } from "./cache.ts";
import { Emitter, type Listener } from "./emitter.ts";
import { Feed } from "./feed.ts";
import { Http } from "./http.ts";
import { deepMerge, isObject, type JsonObject, mergePatch } from "./merge.ts";
import { Outbox } from "./outbox.ts";
import { Sender } from "./sender.ts";
import type { ClientStorage } from "./storage.ts";
import type {
  Change,
  ClientEvents,
  ConflictResolution,
  OutboxEntry,
  SyncDocument,
} from "./types.ts";

/** What `createClient` takes. */
export interface ClientOptions {
  /** The sync service, e.g. `http://127.0.0.1:8081`. */
  baseUrl: string;
  /** A fresh Firebase ID token: `() => auth.currentUser.getIdToken()` (true forces a refresh). */
  getIdToken: (forceRefresh?: boolean) => Promise<string>;
  /** Where the outbox and the cache live (`IndexedDbStorage`, `FileStorage`, `MemoryStorage`). */
  storage: ClientStorage;
  fetch?: typeof fetch;
  /** What to do with a stale change (409); the default drops it and refreshes the document. */
  onConflict?: (
    change: Change,
    currentVersion: number | undefined,
  ) => ConflictResolution | Promise<ConflictResolution>;
  /** Start offline (nothing is sent or read until `setOnline(true)`). */
  online?: boolean;
  /** Retry pacing: exponential from `baseMs` up to `maxMs`, with jitter. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** At most this many changes in one `:batch` request (100). */
  maxBatchChanges?: number;
  /** Between polls of the JSON feed while there is no live stream (5,000 ms). */
  pollIntervalMs?: number;
  /** How long to poll before trying the stream again (60,000 ms). */
  streamRetryMs?: number;
  /** Changes per page of the JSON feed (500). */
  feedPageSize?: number;
}

/** Options of one write. */
export interface WriteOptions {
  /** Apply only if the server's document is at this version; a 409 goes to `onConflict`. */
  expectedVersion?: number;
}

/** A problem with how the client was called (bad options or arguments). */
export class ClientError extends Error {
  override readonly name = "ClientError";
}

function checkId(value: unknown, what: string): asserts value is string {
  if (typeof value !== "string" || value === "" || value.includes("/")) {
    throw new ClientError(`${what} must be a non-empty string without "/"`);
  }
}

function checkChange(change: Change): void {
  if (!change || !["put", "patch", "delete"].includes(change.op)) {
    throw new ClientError('a change needs op "put", "patch" or "delete"');
  }
  checkId(change.collection, "collection");
  checkId(change.id, "id");
  if (change.op === "put" && !isObject(change.data)) {
    throw new ClientError("data must be a JSON object");
  }
  if (change.op === "patch" && !isObject(change.patch)) {
    throw new ClientError("a merge patch must be a JSON object");
  }
  const version = change.expectedVersion;
  if (version !== undefined && !(Number.isInteger(version) && version >= 0)) {
    throw new ClientError("expectedVersion must be an integer of at least 0");
  }
}

/** The client: an outbox of writes sent in order, and local copies kept current by the feed. */
export interface SyncClient {
  /** Resolves once the outbox and the cache are loaded from storage. */
  readonly ready: Promise<void>;
  readonly online: boolean;
  /** Deep-merges `data` into a document (as `POST /v1/sync`); resolves once it is in the outbox. */
  put(
    collection: string,
    id: string,
    data: JsonObject,
    options?: WriteOptions,
  ): Promise<OutboxEntry>;
  /** An RFC 7396 merge patch (a null removes a field). */
  patch(
    collection: string,
    id: string,
    patch: JsonObject,
    options?: WriteOptions,
  ): Promise<OutboxEntry>;
  delete(collection: string, id: string, options?: WriteOptions): Promise<OutboxEntry>;
  /** Several changes, in the outbox together (one storage write) and in this order. */
  batch(changes: readonly Change[]): Promise<OutboxEntry[]>;
  /** A document as this client sees it: the cached copy with the pending writes on top. */
  get(collection: string, id: string): SyncDocument | undefined;
  /** Every document of a collection as `get` sees it. */
  list(collection: string): SyncDocument[];
  /** Keeps a collection's copy current; returns the function that stops. */
  subscribe(collection: string): () => Promise<void>;
  on<K extends keyof ClientEvents>(event: K, listener: Listener<ClientEvents[K]>): () => void;
  setOnline(online: boolean): void;
  /** The changes still waiting to be acknowledged, oldest first. */
  pending(): readonly OutboxEntry[];
  /** Resolves once the outbox is empty. */
  flush(): Promise<void>;
  /** Stops sending and reading (what is in the outbox stays for the next start). */
  close(): Promise<void>;
}

/** Creates a client; see the package README. */
export function createClient(options: ClientOptions): SyncClient {
  if (typeof options?.baseUrl !== "string" || !/^https?:\/\//.test(options.baseUrl)) {
    throw new ClientError("baseUrl must be an http(s) URL, e.g. http://127.0.0.1:8081");
  }
  if (typeof options.getIdToken !== "function") {
    throw new ClientError("getIdToken must be a function returning an ID token");
  }
  if (!options.storage || typeof options.storage.write !== "function") {
    throw new ClientError("storage must be a ClientStorage (e.g. new MemoryStorage())");
  }
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const backoff = { baseMs: 250, maxMs: 30_000, ...options.backoff };
  const events = new Emitter<ClientEvents>();
  const http = new Http(options.baseUrl, fetchImpl, options.getIdToken);
  const outbox = new Outbox(options.storage);
  const cache = new DocumentCache(options.storage);
  const feeds = new Map<string, Promise<Feed>>();
  let online = options.online ?? true;

  const view = (collection: string, id: string): SyncDocument | undefined => {
    const held = cache.get(collection, id);
    let doc: SyncDocument | undefined =
      held && !held.deleted
        ? {
            id,
            data: held.data ?? {},
            version: held.version,
            created_by: held.created_by,
            sync_source: held.sync_source,
            updated_at: held.updated_at,
            pending: false,
          }
        : undefined;
    for (const { change } of outbox.forDocument(collection, id)) {
      if (change.op === "delete") {
        doc = undefined;
        continue;
      }
      const base: SyncDocument = doc ?? {
        id,
        data: {},
        version: held?.version ?? 0,
        created_by: held?.created_by ?? null,
        sync_source: null,
        updated_at: null,
        pending: true,
      };
      doc = {
        ...base,
        data:
          change.op === "put"
            ? deepMerge(base.data, change.data)
            : mergePatch(base.data, change.patch),
        pending: true,
      };
    }
    return doc;
  };
  const changed = (collection: string, id: string, origin: "local" | "server") =>
    events.emit("change", { collection, id, doc: view(collection, id), origin });

  const sender = new Sender(outbox, http, cache, events, {
    backoff,
    maxBatchChanges: options.maxBatchChanges ?? 100,
    onConflict: options.onConflict,
    changed,
    refresh: async (collection, id) => {
      const response = await http.request(
        "GET",
        `/v1/documents/${encodeURIComponent(collection)}/${encodeURIComponent(id)}`,
      );
      if (response.status === 404) {
        const held = cache.get(collection, id);
        if (held) await cache.set(collection, id, { ...held, deleted: true, data: undefined });
      } else if (response.status === 200) {
        const body = response.body as SyncDocument & { data: JsonObject };
        await cache.set(collection, id, {
          data: body.data,
          version: body.version,
          created_by: body.created_by ?? null,
          sync_source: body.sync_source ?? null,
          updated_at: body.updated_at ?? null,
        });
      }
    },
  });

  if (!online) sender.setOnline(false);
  const ready = Promise.all([outbox.load(), cache.load()]).then(() => sender.kick());
  const enqueue = async (changes: readonly Change[]) => {
    changes.forEach(checkChange);
    await ready;
    const added = await outbox.add(changes);
    for (const { change } of added) changed(change.collection, change.id, "local");
    sender.kick();
    return added;
  };
  const one = async (change: Change) => {
    const [entry] = await enqueue([change]);
    return entry as OutboxEntry;
  };
  const condition = (options?: WriteOptions) =>
    options?.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion };

  return {
    ready,
    get online() {
      return online;
    },
    put: (collection, id, data, writeOptions) =>
      one({ op: "put", collection, id, data, ...condition(writeOptions) }),
    patch: (collection, id, patch, writeOptions) =>
      one({ op: "patch", collection, id, patch, ...condition(writeOptions) }),
    delete: (collection, id, writeOptions) =>
      one({ op: "delete", collection, id, ...condition(writeOptions) }),
    batch: (changes) => {
      if (!Array.isArray(changes)) throw new ClientError("batch takes an array of changes");
      return enqueue(changes);
    },
    get: (collection, id) => view(collection, id),
    list: (collection) => {
      const ids = new Set(cache.ids(collection));
      for (const entry of outbox.entries) {
        if (entry.change.collection === collection) ids.add(entry.change.id);
      }
      return [...ids]
        .map((id) => view(collection, id))
        .filter((doc): doc is SyncDocument => doc !== undefined);
    },
    subscribe: (collection) => {
      checkId(collection, "collection");
      if (!feeds.has(collection)) {
        feeds.set(
          collection,
          ready.then(
            () =>
              new Feed(collection, http, cache, events, {
                online,
                pollIntervalMs: options.pollIntervalMs ?? 5_000,
                streamRetryMs: options.streamRetryMs ?? 60_000,
                pageSize: options.feedPageSize ?? 500,
                backoff,
                changed,
              }),
          ),
        );
      }
      return async () => {
        const feed = await feeds.get(collection);
        feeds.delete(collection);
        await feed?.close();
      };
    },
    on: (event, listener) => events.on(event, listener),
    setOnline: (value) => {
      online = value;
      sender.setOnline(value);
      for (const feed of feeds.values()) void feed.then((started) => started.setOnline(value));
    },
    pending: () => outbox.entries,
    flush: async () => {
      await ready;
      return sender.idle();
    },
    close: async () => {
      await ready.catch(() => undefined);
      await sender.close();
      await Promise.all([...feeds.values()].map(async (feed) => (await feed).close()));
      feeds.clear();
      await options.storage.close?.();
    },
  };
}
