export {
  ClientError,
  type ClientOptions,
  createClient,
  type SyncClient,
  type WriteOptions,
} from "./client.ts";
export { Emitter, type Listener } from "./emitter.ts";
export { IndexedDbStorage } from "./indexeddb-storage.ts";
export { deepMerge, type JsonObject, mergePatch } from "./merge.ts";
export { type SseEvent, SseParser } from "./sse.ts";
export { type ClientStorage, MemoryStorage, type StorageOp } from "./storage.ts";
export type {
  Change,
  ClientEvents,
  ConflictResolution,
  FeedItem,
  OutboxEntry,
  SyncDocument,
  SyncState,
} from "./types.ts";
