import type { ClientStorage, StorageOp } from "./storage.ts";
import type { Change, OutboxEntry } from "./types.ts";

/**
 * A `:batch` request as it was (or is about to be) sent: persisted before it is sent, so that
 * after a restart it is sent again with the same key and the same body, and the server answers
 * the changes it already applied as the first time (exactly once).
 */
export interface PendingBatch {
  key: string;
  /** The outbox entries of the batch, by item index, each with the key it had then. */
  items: Array<{ seq: number; key: string }>;
  body: { changes: unknown[] };
}

const entryPrefix = "outbox/";
const batchKey = "batch/current";

/** Collections and ids never hold "/" (the client checks them), so the pair joined is unique. */
function documentKey(collection: string, id: string): string {
  return `${collection}/${id}`;
}

function entryKey(seq: number): string {
  return `${entryPrefix}${String(seq).padStart(15, "0")}`;
}

/** The persistent outbox: changes in the order they were made, and the batch in flight. */
export class Outbox {
  readonly #storage: ClientStorage;
  #entries: OutboxEntry[] = [];
  /** The entries by seq, and each document's entries oldest first: lookups stay O(1) in a long outbox. */
  #bySeq = new Map<number, OutboxEntry>();
  #byDocument = new Map<string, OutboxEntry[]>();
  #batch: PendingBatch | undefined;
  #nextSeq = 1;

  constructor(storage: ClientStorage) {
    this.#storage = storage;
  }

  async load(): Promise<void> {
    this.#entries = (await this.#storage.entries(entryPrefix)).map(([, v]) => v as OutboxEntry);
    this.#entries.sort((a, b) => a.seq - b.seq);
    this.#index();
    this.#nextSeq = (this.#entries.at(-1)?.seq ?? 0) + 1;
    const [batch] = await this.#storage.entries(batchKey);
    this.#batch = batch?.[1] as PendingBatch | undefined;
  }

  get entries(): readonly OutboxEntry[] {
    return this.#entries;
  }

  get batch(): PendingBatch | undefined {
    return this.#batch;
  }

  get size(): number {
    return this.#entries.length;
  }

  find(seq: number): OutboxEntry | undefined {
    return this.#bySeq.get(seq);
  }

  /** The entries of one document, oldest first. */
  forDocument(collection: string, id: string): OutboxEntry[] {
    return [...(this.#byDocument.get(documentKey(collection, id)) ?? [])];
  }

  /** The oldest entry of each document: the only ones that may be sent now. */
  heads(): OutboxEntry[] {
    return this.#entries.filter(
      (entry) =>
        this.#byDocument.get(documentKey(entry.change.collection, entry.change.id))?.[0] === entry,
    );
  }

  /** Appends changes, all persisted in one write, each with its own idempotency key. */
  async add(changes: readonly Change[]): Promise<OutboxEntry[]> {
    const queuedAt = new Date().toISOString();
    const added = changes.map((change) => ({
      seq: this.#nextSeq++,
      key: crypto.randomUUID(),
      change,
      queued_at: queuedAt,
    }));
    await this.#storage.write(
      added.map((entry) => ({ type: "set", key: entryKey(entry.seq), value: entry })),
    );
    for (const entry of added) {
      this.#entries.push(entry);
      this.#indexOne(entry);
    }
    return added;
  }

  /** Removes an entry (acknowledged, dropped or refused), with other writes of the same moment. */
  async remove(seq: number, also: StorageOp[] = []): Promise<void> {
    await this.removeMany([seq], also);
  }

  /**
   * Removes entries in one storage write with other writes of the same moment: a batch's
   * acknowledgements, their cache updates and, with `endBatch`, the batch itself, so a long
   * outbox drains at one write (one sync to disk) per batch rather than one per change.
   */
  async removeMany(
    seqs: readonly number[],
    also: StorageOp[] = [],
    options: { endBatch?: boolean } = {},
  ): Promise<void> {
    await this.#storage.write([
      ...seqs.map((seq) => ({ type: "delete" as const, key: entryKey(seq) })),
      ...also,
      ...(options.endBatch ? [{ type: "delete" as const, key: batchKey }] : []),
    ]);
    if (options.endBatch) this.#batch = undefined;
    const removed = new Set(seqs);
    this.#entries = this.#entries.filter((entry) => !removed.has(entry.seq));
    for (const seq of seqs) {
      const entry = this.#bySeq.get(seq);
      if (!entry) continue;
      this.#bySeq.delete(seq);
      const key = documentKey(entry.change.collection, entry.change.id);
      const rest = (this.#byDocument.get(key) ?? []).filter((other) => other.seq !== seq);
      if (rest.length > 0) this.#byDocument.set(key, rest);
      else this.#byDocument.delete(key);
    }
  }

  /** Replaces an entry's change in place (its place in the order kept), under a new key. */
  async replace(seq: number, change: Change): Promise<OutboxEntry | undefined> {
    const index = this.#entries.findIndex((entry) => entry.seq === seq);
    const current = this.#entries[index];
    if (!current) return undefined;
    const entry: OutboxEntry = { ...current, key: crypto.randomUUID(), change };
    await this.#storage.write([{ type: "set", key: entryKey(seq), value: entry }]);
    this.#entries[index] = entry;
    this.#index();
    return entry;
  }

  async setBatch(batch: PendingBatch | undefined): Promise<void> {
    await this.#storage.write([
      batch ? { type: "set", key: batchKey, value: batch } : { type: "delete", key: batchKey },
    ]);
    this.#batch = batch;
  }

  /** True while the batch holds an entry as it was when the batch was made. */
  isOpen(batch: PendingBatch, index: number): boolean {
    const item = batch.items[index];
    return item !== undefined && this.find(item.seq)?.key === item.key;
  }

  #index(): void {
    this.#bySeq = new Map();
    this.#byDocument = new Map();
    for (const entry of this.#entries) this.#indexOne(entry);
  }

  #indexOne(entry: OutboxEntry): void {
    this.#bySeq.set(entry.seq, entry);
    const key = documentKey(entry.change.collection, entry.change.id);
    const list = this.#byDocument.get(key);
    if (list) list.push(entry);
    else this.#byDocument.set(key, [entry]);
  }
}
