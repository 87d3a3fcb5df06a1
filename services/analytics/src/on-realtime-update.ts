import { createHash } from "node:crypto";
import { FieldValue, type Firestore, Timestamp } from "@google-cloud/firestore";
import {
  consumer,
  isAlreadyExists,
  processedMessageRecord,
  type RealtimeUpdate,
  realtimeUpdates,
  withDeadline,
} from "@syncstack/shared";
import type { DeltaSink } from "./activity-folder.ts";
import { type ActivityDelta, activityDeltasCollection } from "./collections.ts";

/**
 * An event's identity: the sync outbox may publish one event twice under different message
 * ids, so duplicates are recognised by (collection, document, version), not by message id.
 */
export function eventId(event: Pick<RealtimeUpdate, "collection" | "document" | "version">) {
  return createHash("sha256")
    .update(JSON.stringify([event.collection, event.document, event.version]))
    .digest("hex");
}

/** What one event adds to its author's `user_stats` record. */
export function deltaOf(event: RealtimeUpdate & { uid: string }): ActivityDelta {
  return {
    uid: event.uid,
    documents_created: event.op === "create" ? 1 : 0,
    // Events do not say who created the document an update touches, so no event can show a
    // collaboration; the field is carried through so that counting it needs no migration.
    collaborations: 0,
    last_activity: Timestamp.fromDate(new Date(event.timestamp)),
  };
}

/**
 * `realtime-updates` -> the event's delta for its author, exactly once: the idempotency
 * record of the event and its delta commit together in one atomic batch with create
 * preconditions, so a redelivery or a duplicate publish fails as a whole (ALREADY_EXISTS)
 * and changes nothing. No read and no shared document is involved, so a burst for one user
 * never contends; the folder moves deltas into `user_stats/{uid}` at a bounded write rate.
 * Events without an author are acknowledged: there is nobody to count them for.
 */
export function onRealtimeUpdate(db: Firestore, sink: DeltaSink, deadlineMs: number) {
  return consumer(realtimeUpdates, async ({ data: event, logger }) => {
    const { uid } = event;
    if (uid === undefined) return;
    const id = eventId(event);
    const key = `analytics/realtime-updates/${id}`;
    const ref = db.collection(activityDeltasCollection).doc(id);
    const delta = deltaOf({ ...event, uid });
    const batch = db.batch();
    // The same record applyOnce keeps, in its collection, so one TTL policy covers both.
    const record = processedMessageRecord(db, key);
    batch.create(record.ref, record.data);
    batch.create(ref, {
      ...delta,
      event: { collection: event.collection, document: event.document, version: event.version },
      created_at: FieldValue.serverTimestamp(),
    });
    try {
      await withDeadline("firestore.commit activity", deadlineMs, () => batch.commit());
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      logger.debug("event already applied", { eventId: id });
    }
    // Also after a duplicate: a first attempt that committed after its deadline left its
    // delta unannounced; folding a delta that is already gone is a no-op.
    sink.note({ ref, delta });
  });
}
