import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
import { z } from "zod";

/** The analytics service's environment. */
export const analyticsEnvSchema = withDefaultPort(
  baseEnvSchema.extend({
    /**
     * The least time between two folds into one user's `user_stats` record: Firestore
     * sustains about one write per second to a document, whatever the user's event rate.
     */
    FOLD_INTERVAL_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
    /** How often the sweeper looks for activity a crashed instance committed but never folded. */
    SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(60_000),
    /** Unfolded activity older than this belongs to the sweeper (its instance had its chance). */
    SWEEP_AGE_MS: z.coerce.number().int().min(0).default(30_000),
    /** Deadline of the stats-tick aggregation queries, which scan every user_stats index entry. */
    AGGREGATION_DEADLINE_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
  }),
  8084,
);
export type AnalyticsConfig = z.infer<typeof analyticsEnvSchema>;
