import type { ClientStorage, StorageOp } from "./storage.ts";

// The few IndexedDB members this wrapper uses, declared here so that the package type-checks
// without the DOM library (the repository's checks run with Node's types only).
interface IdbRequest<T> {
  result: T;
  error: unknown;
  onsuccess: (() => void) | null;
  onerror: (() => void) | null;
}
interface IdbOpenRequest extends IdbRequest<IdbDatabase> {
  onupgradeneeded: (() => void) | null;
  onblocked: (() => void) | null;
}
interface IdbObjectStore {
  put(value: unknown, key: string): IdbRequest<unknown>;
  delete(key: string): IdbRequest<unknown>;
  getAll(range: unknown): IdbRequest<unknown[]>;
  getAllKeys(range: unknown): IdbRequest<string[]>;
}
interface IdbTransaction {
  objectStore(name: string): IdbObjectStore;
  oncomplete: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  error: unknown;
}
interface IdbDatabase {
  objectStoreNames: { contains(name: string): boolean };
  createObjectStore(name: string): unknown;
  transaction(store: string, mode: "readonly" | "readwrite"): IdbTransaction;
  close(): void;
}
interface IdbFactory {
  open(name: string, version?: number): IdbOpenRequest;
}
interface IdbKeyRangeStatic {
  bound(lower: string, upper: string, lowerOpen?: boolean, upperOpen?: boolean): unknown;
}

const store = "kv";

function promised<T>(request: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * A storage in the browser's IndexedDB: one database (`name`) with one object store of JSON
 * values; a `write` is one readwrite transaction, so it is atomic across a reload or a crash.
 */
export class IndexedDbStorage implements ClientStorage {
  readonly #db: Promise<IdbDatabase>;
  readonly #keyRange: IdbKeyRangeStatic;

  constructor(
    name = "syncstack",
    factory: unknown = (globalThis as { indexedDB?: unknown }).indexedDB,
    keyRange: unknown = (globalThis as { IDBKeyRange?: unknown }).IDBKeyRange,
  ) {
    if (!factory || !keyRange) {
      throw new Error("IndexedDbStorage needs IndexedDB (a browser); in Node use FileStorage");
    }
    this.#keyRange = keyRange as IdbKeyRangeStatic;
    const request = (factory as IdbFactory).open(name, 1);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(store)) request.result.createObjectStore(store);
    };
    request.onblocked = () => undefined;
    this.#db = promised(request);
  }

  async entries(prefix: string): Promise<Array<[string, unknown]>> {
    const db = await this.#db;
    const range = this.#keyRange.bound(prefix, `${prefix}\uffff`);
    const objects = db.transaction(store, "readonly").objectStore(store);
    const [keys, values] = await Promise.all([
      promised(objects.getAllKeys(range)),
      promised(objects.getAll(range)),
    ]);
    return keys.map((key, index) => [key, values[index]]);
  }

  async write(ops: readonly StorageOp[]): Promise<void> {
    if (ops.length === 0) return;
    const db = await this.#db;
    const transaction = db.transaction(store, "readwrite");
    const objects = transaction.objectStore(store);
    const done = new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error ?? new Error("transaction aborted"));
    });
    for (const op of ops) {
      if (op.type === "set") objects.put(op.value, op.key);
      else objects.delete(op.key);
    }
    await done;
  }

  async close(): Promise<void> {
    (await this.#db).close();
  }
}
