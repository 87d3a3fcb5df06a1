import type { BucketRecord, ObjectRecord, UploadSession } from "./records.ts";

/** Everything the emulator keeps besides bytes, as loaded at start-up. */
export interface Snapshot {
  buckets: BucketRecord[];
  objects: ObjectRecord[];
  sessions: UploadSession[];
}

/** Where bucket, object and session records are kept between restarts. */
export interface Persistence {
  load(): Promise<Snapshot>;
  saveBucket(record: BucketRecord): Promise<void>;
  removeBucket(name: string): Promise<void>;
  saveObject(record: ObjectRecord): Promise<void>;
  removeObject(bucket: string, name: string): Promise<void>;
  saveSession(session: UploadSession): Promise<void>;
  removeSession(id: string): Promise<void>;
}

/** Keeps nothing: the in-memory index is all there is (tests). */
export const memoryPersistence: Persistence = {
  load: async () => ({ buckets: [], objects: [], sessions: [] }),
  saveBucket: async () => {},
  removeBucket: async () => {},
  saveObject: async () => {},
  removeObject: async () => {},
  saveSession: async () => {},
  removeSession: async () => {},
};
