import type { Timestamp } from "@google-cloud/firestore";

/** What a writer believes about a document: its version and last update time (absent: no document). */
export interface KnownState {
  version: number;
  updateTime?: Timestamp;
  /** The document's creator, and its members under the members policy: what the rules check. */
  createdBy?: string;
  members?: readonly string[];
  /** The document is a tombstone. */
  deleted?: boolean;
}

/**
 * The state of documents this instance wrote last, bounded by least-recent use. A stale
 * entry is harmless: the write's precondition fails and the document is read.
 */
export class KnownVersions {
  readonly #entries = new Map<string, KnownState>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get(path: string): KnownState | undefined {
    const state = this.#entries.get(path);
    if (state) {
      this.#entries.delete(path);
      this.#entries.set(path, state);
    }
    return state;
  }

  set(path: string, state: KnownState): void {
    this.#entries.delete(path);
    this.#entries.set(path, state);
    if (this.#entries.size > this.#capacity) {
      // A tenth at a time: finding a Map's oldest key walks past the slots of deleted ones,
      // which cost up to 50 µs per write once full when done one by one (bench sync profile).
      let excess = this.#entries.size - Math.floor(this.#capacity * 0.9);
      for (const key of this.#entries.keys()) {
        if (excess-- <= 0) break;
        this.#entries.delete(key);
      }
    }
  }

  delete(path: string): void {
    this.#entries.delete(path);
  }
}
