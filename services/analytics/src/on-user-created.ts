import { type Firestore, Timestamp } from "@google-cloud/firestore";
import { consumer, userCreated, withDeadline } from "@syncstack/shared";
import { type UserStats, userStatsCollection } from "./collections.ts";

/**
 * `user-created` -> `user_stats/{uid}` with zero counters; a repeated or redelivered event,
 * or one arriving after the user's first activity was folded in, leaves the record alone.
 */
export function onUserCreated(db: Firestore, deadlineMs: number) {
  return consumer(userCreated, async ({ data, publishTime }) => {
    const ref = db.collection(userStatsCollection).doc(data.uid);
    await withDeadline("firestore.user_stats.create", deadlineMs, () =>
      db.runTransaction(async (transaction) => {
        if ((await transaction.get(ref)).exists) return;
        // The publish time, not the handling time: a redelivery hours later must not
        // claim activity that did not happen.
        const record: UserStats = {
          documents_created: 0,
          collaborations: 0,
          last_activity: Timestamp.fromDate(publishTime),
        };
        transaction.set(ref, record);
      }),
    );
  });
}
