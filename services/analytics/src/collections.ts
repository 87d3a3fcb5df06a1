import type { Timestamp } from "@google-cloud/firestore";
import type { CollectionName } from "@syncstack/shared";

/** `user_stats/{uid}`: one user's counters (docs/contract.md). */
export const userStatsCollection = "user_stats" satisfies CollectionName;

/**
 * Internal: one document per applied activity event, waiting to be folded into its user's
 * record. Each event writes its own document, so a burst for one user never contends.
 */
export const activityDeltasCollection = "_activity_deltas" satisfies CollectionName;

/**
 * Internal: one marker per (user, collection, document) the user collaborated on, created
 * with the event that counted it, so that later events of the pair add nothing.
 */
export const collaborationsCollection = "_collaborations" satisfies CollectionName;

/** `analytics/daily_stats`: the latest tick's figures (docs/contract.md). */
export const dailyStatsPath = "analytics/daily_stats";

/** `analytics_history/{tick}`: one document per tick, to draw a trend. */
export const historyCollection = "analytics_history" satisfies CollectionName;

/** What one `user_stats` record holds. */
export interface UserStats {
  documents_created: number;
  collaborations: number;
  last_activity: Timestamp;
}

/** What a delta adds to its user's record when folded. */
export interface ActivityDelta extends UserStats {
  uid: string;
}

/** The figures of one stats tick, as `analytics/daily_stats` holds them. */
export interface StatsFigures {
  total_users: number;
  total_documents: number;
  total_collaborations: number;
  active_users: number;
}

/** The later of two Firestore timestamps. */
export function later(a: Timestamp, b: Timestamp): Timestamp {
  return a.seconds > b.seconds || (a.seconds === b.seconds && a.nanoseconds >= b.nanoseconds)
    ? a
    : b;
}
