import { ApiError, noSuchBucket } from "./api-error.ts";
import type { Persistence } from "./persistence.ts";
import type { BucketRecord, ObjectRecord, UploadSession } from "./records.ts";

/**
 * The emulator's index of buckets, live objects and upload sessions. Reads and checks are
 * synchronous, so a check and the change it guards never interleave with another request;
 * every change is also handed to the persistence, and its promise settles once it is kept.
 */
export class StorageState {
  readonly #buckets = new Map<string, BucketRecord>();
  readonly #objects = new Map<string, Map<string, ObjectRecord>>();
  readonly #sessions = new Map<string, UploadSession>();
  readonly #persistence: Persistence;
  #lastGeneration = 0;

  private constructor(persistence: Persistence) {
    this.#persistence = persistence;
  }

  /** The state the persistence kept, ready to serve. */
  static async load(persistence: Persistence): Promise<StorageState> {
    const state = new StorageState(persistence);
    const snapshot = await persistence.load();
    for (const bucket of snapshot.buckets) {
      state.#buckets.set(bucket.name, bucket);
      state.#objects.set(bucket.name, new Map());
    }
    for (const object of snapshot.objects) {
      state.#objects.get(object.bucket)?.set(object.name, object);
      state.#lastGeneration = Math.max(state.#lastGeneration, Number(object.generation));
    }
    for (const session of snapshot.sessions) state.#sessions.set(session.id, session);
    return state;
  }

  /** A generation number: microseconds since the epoch, like Cloud Storage's, never repeated. */
  nextGeneration(): string {
    this.#lastGeneration = Math.max(this.#lastGeneration + 1, Date.now() * 1000);
    return String(this.#lastGeneration);
  }

  hasBucket(name: string): boolean {
    return this.#buckets.has(name);
  }

  /** The bucket, or a 404 ApiError. */
  bucket(name: string): BucketRecord {
    const bucket = this.#buckets.get(name);
    if (!bucket) throw noSuchBucket();
    return bucket;
  }

  buckets(): BucketRecord[] {
    return [...this.#buckets.values()].sort((a, b) => compare(a.name, b.name));
  }

  saveBucket(record: BucketRecord): Promise<void> {
    this.#buckets.set(record.name, record);
    if (!this.#objects.has(record.name)) this.#objects.set(record.name, new Map());
    return this.#persistence.saveBucket(record);
  }

  /** Deletes an empty bucket; one that still holds objects is a 409, as in Cloud Storage. */
  deleteBucket(name: string): Promise<void> {
    this.bucket(name);
    if ((this.#objects.get(name)?.size ?? 0) > 0) {
      throw new ApiError(409, "conflict", "The bucket you tried to delete is not empty.");
    }
    this.#buckets.delete(name);
    this.#objects.delete(name);
    return this.#persistence.removeBucket(name);
  }

  object(bucket: string, name: string): ObjectRecord | undefined {
    return this.#objects.get(bucket)?.get(name);
  }

  /** The bucket's live objects in name order (UTF-8 byte order, as the API lists them). */
  objects(bucket: string): ObjectRecord[] {
    this.bucket(bucket);
    return [...(this.#objects.get(bucket)?.values() ?? [])].sort((a, b) => compare(a.name, b.name));
  }

  saveObject(record: ObjectRecord): Promise<void> {
    this.bucket(record.bucket);
    this.#objects.get(record.bucket)?.set(record.name, record);
    return this.#persistence.saveObject(record);
  }

  deleteObject(record: ObjectRecord): Promise<void> {
    this.#objects.get(record.bucket)?.delete(record.name);
    return this.#persistence.removeObject(record.bucket, record.name);
  }

  session(id: string): UploadSession | undefined {
    return this.#sessions.get(id);
  }

  saveSession(session: UploadSession): Promise<void> {
    this.#sessions.set(session.id, session);
    return this.#persistence.saveSession(session);
  }

  deleteSession(id: string): Promise<void> {
    this.#sessions.delete(id);
    return this.#persistence.removeSession(id);
  }

  /** Blob ids some object or session still needs; any other blob is garbage from a crash. */
  blobsInUse(): Set<string> {
    const ids = new Set<string>();
    for (const objects of this.#objects.values()) for (const o of objects.values()) ids.add(o.blob);
    for (const session of this.#sessions.values()) ids.add(session.blob);
    return ids;
  }
}

/** Compares names by their UTF-8 bytes, the order Cloud Storage lists in. */
export function compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
