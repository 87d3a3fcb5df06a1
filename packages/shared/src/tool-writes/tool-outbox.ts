import {
  type DocumentReference,
  FieldValue,
  type Firestore,
  type WriteBatch,
} from "@google-cloud/firestore";
import type { CollectionName } from "../registry/collections.ts";
import type { TraceCarrier } from "../telemetry.ts";
import type { RealtimeUpdate } from "../topics/realtime-updates.ts";

/**
 * Sync's transactional outbox (services/sync/src/outbox.ts): a tool writes its events there
 * in the same commit as their documents, in the entry format sync's sweeper reads, so the
 * sync service publishes whatever the tool could not (a crash, a Pub/Sub outage).
 */
export const toolOutboxCollection = "_outbox" satisfies CollectionName;

/** An event as the outbox keeps it: its timestamp is the entry's commit time. */
export type ToolPendingEvent = Omit<RealtimeUpdate, "timestamp">;

/**
 * Adds one outbox entry holding `events` to `batch`, with the trace context they were made
 * under (when there is one); returns the entry, to delete once every event is published.
 */
export function addToolOutboxEntry(
  db: Firestore,
  batch: WriteBatch,
  events: readonly ToolPendingEvent[],
  trace: TraceCarrier,
): DocumentReference {
  const entry = db.collection(toolOutboxCollection).doc();
  batch.create(entry, {
    // One string field, as sync writes it: the database indexes every field and element.
    events: JSON.stringify(events),
    ...(trace.traceparent ? { traces: JSON.stringify(events.map(() => trace)) } : {}),
    created_at: FieldValue.serverTimestamp(),
  });
  return entry;
}
