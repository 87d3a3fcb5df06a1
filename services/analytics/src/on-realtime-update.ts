import { createHash } from "node:crypto";
import {
  type DocumentReference,
  FieldValue,
  type Firestore,
  Timestamp,
} from "@google-cloud/firestore";
import {
  consumer,
  isAlreadyExists,
  isToolEvent,
  processedMessageRecord,
  type RealtimeUpdate,
  realtimeUpdates,
  withDeadline,
} from "@syncstack/shared";
import type { DeltaSink } from "./activity-folder.ts";
import {
  type ActivityDelta,
  activityDeltasCollection,
  collaborationsCollection,
} from "./collections.ts";
import { pendingOf } from "./fold-deltas.ts";

const sha256 = (parts: readonly unknown[]) =>
  createHash("sha256").update(JSON.stringify(parts)).digest("hex");

/**
 * An event's identity: the sync outbox may publish one event twice under different message
 * ids, so duplicates are recognised by (collection, document, version), not by message id.
 */
export function eventId(event: Pick<RealtimeUpdate, "collection" | "document" | "version">) {
  return sha256([event.collection, event.document, event.version]);
}

/** The id of the marker of one (user, document) pair, the same for every version and op. */
export function collaborationId(
  uid: string,
  event: Pick<RealtimeUpdate, "collection" | "document">,
): string {
  return sha256([uid, event.collection, event.document]);
}

/**
 * Whether an event shows its author collaborating: creating or changing (not deleting) a
 * document that someone else created. An event that does not name both is not one.
 */
export function isCollaboration(event: RealtimeUpdate): boolean {
  return (
    event.op !== "delete" &&
    event.uid !== undefined &&
    event.created_by !== undefined &&
    event.uid !== event.created_by
  );
}

/**
 * What one event adds to its author's `user_stats` record; `firstCollaboration` when the
 * event is the first of its (user, document) pair to be counted as a collaboration.
 */
export function deltaOf(
  event: RealtimeUpdate & { uid: string },
  firstCollaboration = false,
): ActivityDelta {
  return {
    uid: event.uid,
    documents_created: event.op === "create" ? 1 : 0,
    collaborations: firstCollaboration ? 1 : 0,
    last_activity: Timestamp.fromDate(new Date(event.timestamp)),
  };
}

/**
 * `realtime-updates` -> the event's delta for its author, exactly once: the idempotency
 * record of the event and its delta commit together in one atomic batch with create
 * preconditions, so a redelivery or a duplicate publish fails as a whole (ALREADY_EXISTS)
 * and changes nothing. A collaboration also creates its pair's marker in the batch, with
 * the delta counting it; when that fails, the batch is tried again without the marker and
 * counting nothing: a second failure means the event was applied before, a success that
 * another event of the pair counted it (the event's other figures still count). A first
 * delivery reads nothing and takes no lock, so a burst for one user never contends; the folder
 * moves deltas into `user_stats/{uid}` at a bounded write rate. Events without an author
 * are acknowledged: there is nobody to count them for; so are a tool's (a restore or a
 * migration rewriting documents): a restored document is not one its creator created again.
 */
export function onRealtimeUpdate(db: Firestore, sink: DeltaSink, deadlineMs: number) {
  return consumer(realtimeUpdates, async ({ data: event, logger }) => {
    const { uid } = event;
    if (uid === undefined || isToolEvent(event)) return;
    const id = eventId(event);
    const ref = db.collection(activityDeltasCollection).doc(id);
    const { collection, document, version } = event;

    /** Commits the event with `delta` (and `marker`); false when a document already exists. */
    const commit = async (delta: ActivityDelta, marker?: DocumentReference) => {
      const batch = db.batch();
      // The same record applyOnce keeps, in its collection, so one TTL policy covers both.
      const record = processedMessageRecord(db, `analytics/realtime-updates/${id}`);
      batch.create(record.ref, record.data);
      batch.create(ref, {
        ...delta,
        event: { collection, document, version },
        created_at: FieldValue.serverTimestamp(),
      });
      if (marker) {
        batch.create(marker, {
          uid,
          collection,
          document,
          event: { version },
          created_at: FieldValue.serverTimestamp(),
        });
      }
      try {
        await withDeadline("firestore.commit activity", deadlineMs, () => batch.commit());
        return true;
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
        return false;
      }
    };

    const collaboration = isCollaboration(event);
    let delta = deltaOf({ ...event, uid }, collaboration);
    const marker = db.collection(collaborationsCollection).doc(collaborationId(uid, event));
    let applied = await commit(delta, collaboration ? marker : undefined);
    if (!applied && collaboration) {
      delta = deltaOf({ ...event, uid }, false);
      applied = await commit(delta);
      if (applied) logger.debug("collaboration already counted", { eventId: id });
    }
    if (applied) {
      sink.note({ ref, delta });
      return;
    }
    logger.debug("event already applied", { eventId: id });
    // Announced also after a duplicate: a first attempt that committed after its deadline
    // left its delta unannounced. The stored delta is announced, not this delivery's: which
    // attempt committed decides whether it counts a collaboration. A folded delta is gone.
    const stored = await withDeadline("firestore.delta.get", deadlineMs, () => ref.get());
    if (stored.exists) sink.note(pendingOf(stored));
  });
}
