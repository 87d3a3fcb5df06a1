import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Persistence, Snapshot } from "./persistence.ts";
import type { BucketRecord, ObjectRecord, UploadSession } from "./records.ts";

/**
 * Records as JSON files under a data directory: `buckets/<name>.json`,
 * `objects/<bucket>/<sha256 of name>.json` (names may be 1 KiB long and hold `/`),
 * `uploads/<id>.json`. Each file is replaced by rename, so a crash never leaves half a record.
 */
export class DiskPersistence implements Persistence {
  readonly #dir: string;
  // Writes to one file run in order, so the last record saved is the one on disk.
  readonly #queues = new Map<string, Promise<void>>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  async load(): Promise<Snapshot> {
    const buckets = await this.#readAll<BucketRecord>(join(this.#dir, "buckets"));
    const objects: ObjectRecord[] = [];
    for (const bucket of buckets) {
      objects.push(...(await this.#readAll<ObjectRecord>(this.#objectsDir(bucket.name))));
    }
    const sessions = await this.#readAll<UploadSession>(join(this.#dir, "uploads"));
    return { buckets, objects, sessions };
  }

  saveBucket(record: BucketRecord): Promise<void> {
    return this.#write(join(this.#dir, "buckets", `${record.name}.json`), record);
  }

  async removeBucket(name: string): Promise<void> {
    await this.#write(join(this.#dir, "buckets", `${name}.json`), undefined);
    await rm(this.#objectsDir(name), { recursive: true, force: true });
  }

  saveObject(record: ObjectRecord): Promise<void> {
    return this.#write(this.#objectPath(record.bucket, record.name), record);
  }

  removeObject(bucket: string, name: string): Promise<void> {
    return this.#write(this.#objectPath(bucket, name), undefined);
  }

  saveSession(session: UploadSession): Promise<void> {
    return this.#write(join(this.#dir, "uploads", `${session.id}.json`), session);
  }

  removeSession(id: string): Promise<void> {
    return this.#write(join(this.#dir, "uploads", `${id}.json`), undefined);
  }

  #objectsDir(bucket: string): string {
    return join(this.#dir, "objects", bucket);
  }

  #objectPath(bucket: string, name: string): string {
    const key = createHash("sha256").update(name).digest("hex");
    return join(this.#objectsDir(bucket), `${key}.json`);
  }

  /** Writes `value` to `path`, or removes the file when `value` is undefined. */
  #write(path: string, value: unknown): Promise<void> {
    const previous = this.#queues.get(path) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (value === undefined) {
        await rm(path, { force: true });
        return;
      }
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${randomUUID()}.tmp`;
      await writeFile(temporary, JSON.stringify(value));
      await rename(temporary, path);
    });
    const settled = next.catch(() => {});
    this.#queues.set(path, settled);
    void settled.then(() => {
      if (this.#queues.get(path) === settled) this.#queues.delete(path);
    });
    return next;
  }

  async #readAll<T>(dir: string): Promise<T[]> {
    const names = await readdir(dir).catch(() => [] as string[]);
    const records: T[] = [];
    for (const name of names) {
      const path = join(dir, name);
      if (name.endsWith(".tmp")) await rm(path, { force: true });
      else if (name.endsWith(".json")) records.push(JSON.parse(await readFile(path, "utf8")) as T);
    }
    return records;
  }
}
