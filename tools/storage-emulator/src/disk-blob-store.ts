import { createReadStream } from "node:fs";
import { copyFile, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { BlobSink, BlobStore } from "./blob-store.ts";

/** Blobs as files in one directory, so objects and unfinished uploads survive a restart. */
export class DiskBlobStore implements BlobStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async append(id: string): Promise<BlobSink> {
    await mkdir(this.#dir, { recursive: true });
    const handle = await open(this.#path(id), "a");
    return {
      write: async (chunk) => {
        let written = 0;
        while (written < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, written);
          written += bytesWritten;
        }
      },
      close: () => handle.close(),
    };
  }

  async size(id: string): Promise<number> {
    const info = await stat(this.#path(id)).catch(() => undefined);
    return info?.size ?? 0;
  }

  read(id: string, start = 0, end?: number): Readable {
    return createReadStream(this.#path(id), { start, end });
  }

  async copy(from: string, to: string): Promise<void> {
    await copyFile(this.#path(from), this.#path(to));
  }

  async remove(id: string): Promise<void> {
    await rm(this.#path(id), { force: true });
  }

  async ids(): Promise<string[]> {
    return readdir(this.#dir).catch(() => []);
  }

  #path(id: string): string {
    return join(this.#dir, id);
  }
}
