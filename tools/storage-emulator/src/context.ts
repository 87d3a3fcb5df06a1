import type { BlobStore } from "./blob-store.ts";
import type { Log } from "./log.ts";
import type { Notifier } from "./notifier.ts";
import type { StorageState } from "./storage-state.ts";

/** What every request handler works with. */
export interface Context {
  state: StorageState;
  blobs: BlobStore;
  notifier: Notifier;
  log: Log;
}

/** One request's target: the parsed URL and the base URL the client used. */
export interface Target {
  query: URLSearchParams;
  baseUrl: string;
}
