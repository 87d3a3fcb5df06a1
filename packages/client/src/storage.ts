/** One change to a storage: set a key to a JSON value, or delete it. */
export type StorageOp =
  | { type: "set"; key: string; value: unknown }
  | { type: "delete"; key: string };

/**
 * Where a client keeps its outbox, cursors and cached documents: a small key-value store of
 * JSON values. `MemoryStorage` and `IndexedDbStorage` come with `@syncstack/client`,
 * `FileStorage` with `@syncstack/client/node`; any object of this shape will do.
 */
export interface ClientStorage {
  /** Every entry whose key starts with `prefix`, in key order. */
  entries(prefix: string): Promise<Array<[string, unknown]>>;
  /** Applies the operations atomically: after a crash, all of them or none. */
  write(ops: readonly StorageOp[]): Promise<void>;
  close?(): Promise<void>;
}

/** A storage that lives as long as the process or page (nothing survives a reload). */
export class MemoryStorage implements ClientStorage {
  readonly #map = new Map<string, string>();

  async entries(prefix: string): Promise<Array<[string, unknown]>> {
    return [...this.#map]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => [key, JSON.parse(value)]);
  }

  async write(ops: readonly StorageOp[]): Promise<void> {
    for (const op of ops) {
      if (op.type === "set") this.#map.set(op.key, JSON.stringify(op.value));
      else this.#map.delete(op.key);
    }
  }
}
