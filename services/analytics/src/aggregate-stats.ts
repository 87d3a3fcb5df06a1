import {
  AggregateField,
  type AggregateSpec,
  type Firestore,
  type Query,
  Timestamp,
} from "@google-cloud/firestore";
import { withDeadline } from "@syncstack/shared";
import { activityDeltasCollection, type StatsFigures, userStatsCollection } from "./collections.ts";

/** A user counts as active when their latest activity is this recent at the tick. */
export const activeWindowMs = 24 * 3_600_000;

const counters = {
  users: AggregateField.count(),
  documents: AggregateField.sum("documents_created"),
  collaborations: AggregateField.sum("collaborations"),
} satisfies AggregateSpec;

/**
 * Computes the tick's figures with aggregation queries, so the server counts and sums and no
 * user document reaches this process. Users are split at the start of the active window:
 * the active and the inactive share each give a count and the sums, so the two queries
 * together read each `last_activity` index entry once (every record has a Timestamp there:
 * both of its writers set it). All queries read at `readTime`, one snapshot, and so run at
 * once: a fold committing meanwhile (a delta moving into its record) is seen entirely or not
 * at all. Totals add the deltas not yet folded, which keeps them exact at that instant; a
 * user known only from an unfolded delta is counted from the next tick, hence the tick folds
 * first and takes a read time after that.
 */
export async function aggregateStats(
  db: Firestore,
  tickAt: Date,
  readTime: Timestamp,
  deadlineMs: number,
): Promise<StatsFigures> {
  const users = db.collection(userStatsCollection);
  const since = Timestamp.fromMillis(tickAt.getTime() - activeWindowMs);
  const sum = (query: Query) => query.aggregate(counters);
  return withDeadline("firestore.aggregate user_stats", deadlineMs, () =>
    db.runTransaction(
      async (transaction) => {
        const [active, inactive, unfolded] = await Promise.all(
          [
            sum(users.where("last_activity", ">=", since)),
            sum(users.where("last_activity", "<", since)),
            sum(db.collection(activityDeltasCollection)),
          ].map(async (query) => (await transaction.get(query)).data()),
        );
        if (!active || !inactive || !unfolded) throw new Error("an aggregation returned nothing");
        return {
          total_users: active.users + inactive.users,
          total_documents: active.documents + inactive.documents + unfolded.documents,
          total_collaborations:
            active.collaborations + inactive.collaborations + unfolded.collaborations,
          active_users: active.users,
        };
      },
      { readOnly: true, readTime },
    ),
  );
}
