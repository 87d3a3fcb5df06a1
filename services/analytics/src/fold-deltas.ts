import {
  type DocumentReference,
  type DocumentSnapshot,
  FieldValue,
  type Firestore,
  type Timestamp,
} from "@google-cloud/firestore";
import { grpcCodeOf, grpcStatus, withDeadline } from "@syncstack/shared";
import { type ActivityDelta, later, type UserStats, userStatsCollection } from "./collections.ts";

/** Firestore commits at most 500 writes; a fold writes one per delta and one per user. */
export const maxFoldWrites = 450;

/** A committed delta and what it holds (deltas never change once written). */
export interface PendingDelta {
  ref: DocumentReference;
  delta: ActivityDelta;
}

/** A stored delta as the folder keeps it. */
export function pendingOf(snapshot: DocumentSnapshot): PendingDelta {
  const data = snapshot.data() ?? {};
  return {
    ref: snapshot.ref,
    delta: {
      uid: String(data.uid),
      documents_created: Number(data.documents_created ?? 0),
      collaborations: Number(data.collaborations ?? 0),
      last_activity: data.last_activity as Timestamp,
    },
  };
}

/**
 * Folds deltas into their users' `user_stats` records in one transaction: each delta is
 * added to its user's record (created if missing; `last_activity` only moves forward) and
 * deleted, so every delta counts exactly once and the sum over records and pending deltas
 * never changes. Deltas are not read: their deletes carry an `exists` precondition, so if
 * another instance folded one first the commit fails as a whole, and the fold is retried
 * with the deltas still there. Returns how many deltas it folded.
 */
export async function foldDeltas(
  db: Firestore,
  pending: readonly PendingDelta[],
  deadlineMs: number,
): Promise<number> {
  try {
    return await commitFold(db, pending, deadlineMs);
  } catch (error) {
    const code = grpcCodeOf(error);
    if (code !== grpcStatus.NOT_FOUND && code !== grpcStatus.FAILED_PRECONDITION) throw error;
    const found = await withDeadline("firestore.deltas.getAll", deadlineMs, () =>
      db.getAll(...pending.map(({ ref }) => ref)),
    );
    return commitFold(
      db,
      pending.filter((_, index) => found[index]?.exists),
      deadlineMs,
    );
  }
}

async function commitFold(
  db: Firestore,
  pending: readonly PendingDelta[],
  deadlineMs: number,
): Promise<number> {
  if (pending.length === 0) return 0;
  const sums = new Map<string, UserStats>();
  for (const { delta } of pending) {
    const sum = sums.get(delta.uid);
    sums.set(delta.uid, {
      documents_created: (sum?.documents_created ?? 0) + delta.documents_created,
      collaborations: (sum?.collaborations ?? 0) + delta.collaborations,
      last_activity: sum ? later(sum.last_activity, delta.last_activity) : delta.last_activity,
    });
  }
  const users = [...sums.keys()].map((uid) => db.collection(userStatsCollection).doc(uid));
  return withDeadline(`firestore.fold ${pending.length} deltas`, deadlineMs, () =>
    db.runTransaction(async (transaction) => {
      for (const record of await transaction.getAll(...users)) {
        const sum = sums.get(record.id);
        if (!sum) continue;
        if (!record.exists) {
          transaction.set(record.ref, sum);
          continue;
        }
        const current = record.get("last_activity") as Timestamp | undefined;
        transaction.update(record.ref, {
          documents_created: FieldValue.increment(sum.documents_created),
          collaborations: FieldValue.increment(sum.collaborations),
          last_activity: current ? later(current, sum.last_activity) : sum.last_activity,
        });
      }
      for (const { ref } of pending) transaction.delete(ref, { exists: true });
      return pending.length;
    }),
  );
}
