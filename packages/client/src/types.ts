import type { JsonObject } from "./merge.ts";

/** A document as the client holds it: the server's fields plus whether local writes are pending. */
export interface SyncDocument {
  id: string;
  data: JsonObject;
  /** The server version this copy is based on (0 for a document only written locally). */
  version: number;
  created_by: string | null;
  sync_source: string | null;
  updated_at: string | null;
  /** True while writes of this client to the document wait in the outbox. */
  pending: boolean;
}

/** A write as the app asked for it; `expectedVersion` makes it conditional (409 when stale). */
export type Change =
  | { op: "put"; collection: string; id: string; data: JsonObject; expectedVersion?: number }
  | { op: "patch"; collection: string; id: string; patch: JsonObject; expectedVersion?: number }
  | { op: "delete"; collection: string; id: string; expectedVersion?: number };

/** A change waiting in the outbox, in the order it was made, with its own idempotency key. */
export interface OutboxEntry {
  seq: number;
  key: string;
  change: Change;
  queued_at: string;
}

/** What `onConflict` decides for a change the server refused as stale (409). */
export type ConflictResolution = "drop" | "retry-unconditional" | { data: JsonObject };

/** An item of the change feed (`GET /v1/changes`, or a stream's `change` event). */
export interface FeedItem {
  document: string;
  data?: JsonObject;
  deleted?: boolean;
  version: number;
  created_by?: string | null;
  sync_source?: string | null;
  updated_at?: string | null;
}

/** Where the outbox or a collection's feed is. */
export type SyncState =
  | {
      kind: "outbox";
      state: "idle" | "sending" | "waiting" | "offline";
      pending: number;
      retryInMs?: number;
      error?: string;
    }
  | {
      kind: "feed";
      collection: string;
      state:
        | "connecting"
        | "streaming"
        | "polling"
        | "resyncing"
        | "waiting"
        | "offline"
        | "closed";
      error?: string;
    };

/** The events a client emits, for a UI to bind to with `client.on(...)`. */
export interface ClientEvents extends Record<string, unknown> {
  /** A document's visible state changed (a local write, an acknowledgement, or the feed). */
  change: {
    collection: string;
    id: string;
    doc: SyncDocument | undefined;
    origin: "local" | "server";
  };
  "sync-state": SyncState;
  /** The server acknowledged a change (its version after the change). */
  ack: { change: Change; version: number | undefined };
  /** A change was stale (409); `resolution` is what was done about it. */
  conflict: { change: Change; currentVersion: number | undefined; resolution: ConflictResolution };
  /** The server refused a change for good (400, 403, 404, ...); it left the outbox. */
  rejected: { change: Change; status: number; code: string; message: string };
}
