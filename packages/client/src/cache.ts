import { deepMerge, type JsonObject, mergePatch } from "./merge.ts";
import type { ClientStorage, StorageOp } from "./storage.ts";
import type { Change, FeedItem } from "./types.ts";

/** A document as the server last showed it; a tombstone keeps its version and no data. */
export interface CachedDocument {
  data?: JsonObject;
  deleted?: true;
  version: number;
  created_by: string | null;
  sync_source: string | null;
  updated_at: string | null;
}

const docPrefix = (collection: string) => `cache/${collection}/`;
const cursorKey = (collection: string) => `cursor/${collection}`;

/** The local copy of collections (id -> document) and their feed cursors, persisted. */
export class DocumentCache {
  readonly #storage: ClientStorage;
  readonly #docs = new Map<string, Map<string, CachedDocument>>();
  readonly #cursors = new Map<string, string>();

  constructor(storage: ClientStorage) {
    this.#storage = storage;
  }

  async load(): Promise<void> {
    for (const [key, value] of await this.#storage.entries("cache/")) {
      const [, collection, ...rest] = key.split("/");
      if (collection === undefined) continue;
      this.#collection(collection).set(rest.join("/"), value as CachedDocument);
    }
    for (const [key, value] of await this.#storage.entries("cursor/")) {
      this.#cursors.set(key.slice("cursor/".length), value as string);
    }
  }

  get(collection: string, id: string): CachedDocument | undefined {
    return this.#docs.get(collection)?.get(id);
  }

  ids(collection: string): string[] {
    return [...(this.#docs.get(collection)?.keys() ?? [])];
  }

  cursor(collection: string): string | undefined {
    return this.#cursors.get(collection);
  }

  /**
   * Applies feed items (in change order) and the cursor after them in one storage write; an
   * item older than the copy held is skipped. Returns the ids that changed.
   */
  async applyFeed(
    collection: string,
    items: readonly FeedItem[],
    cursor: string | null | undefined,
  ): Promise<string[]> {
    const ops: StorageOp[] = [];
    const changed: string[] = [];
    const docs = this.#collection(collection);
    for (const item of items) {
      const held = docs.get(item.document);
      if (held && held.version > item.version) continue;
      const doc: CachedDocument = {
        ...(item.deleted ? { deleted: true as const } : { data: item.data ?? {} }),
        version: item.version,
        created_by: item.created_by ?? null,
        sync_source: item.sync_source ?? null,
        updated_at: item.updated_at ?? null,
      };
      docs.set(item.document, doc);
      ops.push({ type: "set", key: `${docPrefix(collection)}${item.document}`, value: doc });
      changed.push(item.document);
    }
    if (cursor) {
      this.#cursors.set(collection, cursor);
      ops.push({ type: "set", key: cursorKey(collection), value: cursor });
    }
    await this.#storage.write(ops);
    return changed;
  }

  /** Puts one document as the server answered it (a refresh), or its absence. */
  async set(collection: string, id: string, doc: CachedDocument | undefined): Promise<void> {
    const key = `${docPrefix(collection)}${id}`;
    if (doc) this.#collection(collection).set(id, doc);
    else this.#docs.get(collection)?.delete(id);
    await this.#storage.write([doc ? { type: "set", key, value: doc } : { type: "delete", key }]);
  }

  /**
   * The cache write an acknowledged change implies, when the copy held is exactly the version
   * before it (so the result is exactly the server's); otherwise none, and the feed brings it.
   */
  acknowledged(change: Change, version: number | undefined): StorageOp[] {
    if (version === undefined) return [];
    const held = this.get(change.collection, change.id);
    const base = held ? held.version : 0;
    if (base !== version - 1) return [];
    const before = held && !held.deleted ? (held.data ?? {}) : {};
    const doc: CachedDocument = {
      ...(change.op === "delete"
        ? { deleted: true as const }
        : {
            data:
              change.op === "put"
                ? deepMerge(before, change.data)
                : mergePatch(before, change.patch),
          }),
      version,
      created_by: held?.created_by ?? null,
      sync_source: held?.sync_source ?? null,
      updated_at: new Date().toISOString(),
    };
    this.#collection(change.collection).set(change.id, doc);
    return [{ type: "set", key: `${docPrefix(change.collection)}${change.id}`, value: doc }];
  }

  /** Forgets a collection's copy and cursor (a 410: resync from the start); returns the ids. */
  async clear(collection: string): Promise<string[]> {
    const ids = this.ids(collection);
    this.#docs.delete(collection);
    this.#cursors.delete(collection);
    await this.#storage.write([
      ...ids.map((id) => ({ type: "delete" as const, key: `${docPrefix(collection)}${id}` })),
      { type: "delete", key: cursorKey(collection) },
    ]);
    return ids;
  }

  #collection(collection: string): Map<string, CachedDocument> {
    let docs = this.#docs.get(collection);
    if (!docs) {
      docs = new Map();
      this.#docs.set(collection, docs);
    }
    return docs;
  }
}
