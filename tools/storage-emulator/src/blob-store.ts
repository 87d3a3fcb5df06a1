import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";

/** Appends to one blob; `close` must be called when the writer is done. */
export interface BlobSink {
  /** Appends `chunk`, which the caller hands over: it must not change it afterwards. */
  write(chunk: Buffer): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where object and upload bytes live: blobs named by id, grown by appends and read by range.
 * An upload's blob becomes its object's blob as is, so finishing an upload copies nothing.
 */
export interface BlobStore {
  append(id: string): Promise<BlobSink>;
  /** Bytes stored so far; 0 for a blob never written. */
  size(id: string): Promise<number>;
  /** Streams bytes `start` to `end` inclusive (the whole blob by default). */
  read(id: string, start?: number, end?: number): Readable;
  copy(from: string, to: string): Promise<void>;
  remove(id: string): Promise<void>;
  ids(): Promise<string[]>;
}

/** A fresh blob id. */
export function newBlobId(): string {
  return randomUUID();
}

/** Blobs kept in memory, for tests: an object's bytes are the chunks that arrived. */
export class MemoryBlobStore implements BlobStore {
  readonly #blobs = new Map<string, Buffer[]>();

  async append(id: string): Promise<BlobSink> {
    let chunks = this.#blobs.get(id);
    if (!chunks) {
      chunks = [];
      this.#blobs.set(id, chunks);
    }
    const target = chunks;
    return {
      // Kept as handed over, not copied: request bodies arrive in fresh buffers, and a copy of
      // every upload was a third of the emulator's CPU under load (allocation and GC).
      write: async (chunk) => void target.push(chunk),
      close: async () => {},
    };
  }

  async size(id: string): Promise<number> {
    return (this.#blobs.get(id) ?? []).reduce((sum, chunk) => sum + chunk.length, 0);
  }

  read(id: string, start = 0, end = Number.POSITIVE_INFINITY): Readable {
    const chunks = this.#blobs.get(id) ?? [];
    return Readable.from(slices(chunks, start, end), { objectMode: false });
  }

  async copy(from: string, to: string): Promise<void> {
    // Stored chunks are never changed once written, so the copy can share them.
    this.#blobs.set(to, [...(this.#blobs.get(from) ?? [])]);
  }

  async remove(id: string): Promise<void> {
    this.#blobs.delete(id);
  }

  async ids(): Promise<string[]> {
    return [...this.#blobs.keys()];
  }
}

function* slices(chunks: Buffer[], start: number, end: number): Generator<Buffer> {
  let offset = 0;
  for (const chunk of chunks) {
    const from = Math.max(start - offset, 0);
    const to = Math.min(end - offset + 1, chunk.length);
    if (from < to) yield chunk.subarray(from, to);
    offset += chunk.length;
    if (offset > end) return;
  }
}
