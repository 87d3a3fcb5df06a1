import { mkdirSync, readFileSync } from "node:fs";
import { type FileHandle, open, rename } from "node:fs/promises";
import { dirname } from "node:path";
import type { ClientStorage, StorageOp } from "./storage.ts";

/** A line of the log: the operations of one `write`, applied together or not at all. */
interface LogLine {
  ops: StorageOp[];
}

/**
 * A storage in one file for Node: a JSON-lines log, one line per `write` appended and synced
 * to disk before the write resolves; a torn last line (a crash mid-append) is ignored on load,
 * so each write is all or nothing. Past `compactAfter` lines the log is rewritten as one line
 * into a temporary file that is synced and renamed over it (atomic on POSIX file systems).
 */
export class FileStorage implements ClientStorage {
  readonly #path: string;
  readonly #map = new Map<string, unknown>();
  readonly #compactAfter: number;
  #lines = 0;
  #handle: Promise<FileHandle> | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(path: string, options: { compactAfter?: number } = {}) {
    this.#path = path;
    this.#compactAfter = options.compactAfter ?? 1_000;
    mkdirSync(dirname(path), { recursive: true });
    let text = "";
    try {
      text = readFileSync(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        // Only the last line can be torn: nothing was appended after a crash.
        break;
      }
      this.#apply(parsed.ops);
      this.#lines++;
    }
  }

  async entries(prefix: string): Promise<Array<[string, unknown]>> {
    return [...this.#map]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => [key, structuredClone(value)]);
  }

  write(ops: readonly StorageOp[]): Promise<void> {
    if (ops.length === 0) return Promise.resolve();
    const line = `${JSON.stringify({ ops })}\n`;
    const run = this.#queue.then(async () => {
      const handle = await this.#open();
      await handle.appendFile(line, "utf8");
      await handle.datasync();
      this.#apply(JSON.parse(line).ops as StorageOp[]);
      if (++this.#lines > this.#compactAfter) await this.#compact();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.#queue;
    const handle = this.#handle;
    this.#handle = undefined;
    await (await handle)?.close();
  }

  #apply(ops: readonly StorageOp[]): void {
    for (const op of ops) {
      if (op.type === "set") this.#map.set(op.key, op.value);
      else this.#map.delete(op.key);
    }
  }

  #open(): Promise<FileHandle> {
    this.#handle ??= open(this.#path, "a");
    return this.#handle;
  }

  async #compact(): Promise<void> {
    const temporary = `${this.#path}.${process.pid}.tmp`;
    const ops = [...this.#map].map(([key, value]) => ({ type: "set" as const, key, value }));
    const file = await open(temporary, "w");
    try {
      await file.writeFile(`${JSON.stringify({ ops })}\n`, "utf8");
      await file.sync();
    } finally {
      await file.close();
    }
    await (await this.#open()).close();
    this.#handle = undefined;
    await rename(temporary, this.#path);
    // The rename itself is durable once the directory is synced.
    const directory = await open(dirname(this.#path), "r");
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    this.#lines = 1;
  }
}
