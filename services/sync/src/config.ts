import { baseEnvSchema, corsOriginsSchema, withDefaultPort } from "@syncstack/shared";
import { z } from "zod";

/** The sync service's environment. */
export const syncEnvSchema = withDefaultPort(
  baseEnvSchema.extend({
    /** Batches of up to 500 changes need more than the default body limit. */
    BODY_LIMIT_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .default(16 * 1_048_576),
    /** How often the outbox sweeper looks for events a crash or outage left unpublished. */
    OUTBOX_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
    /** The access rules file (docs/access-rules.md); the one shipped beside the service by default. */
    ACCESS_RULES_FILE: z.string().min(1).optional(),
    /** How long a deleted document's tombstone is kept; a feed cursor older than this gets 410. */
    TOMBSTONE_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
    /** An outbox entry older than this and not yet published is republished by the sweeper. */
    OUTBOX_SWEEP_AGE_MS: z.coerce.number().int().min(0).default(30_000),
    /** How often an idle change stream sends a `: ping` comment, so proxies keep it open. */
    STREAM_HEARTBEAT_MS: z.coerce.number().int().min(10).default(15_000),
    /** A change stream's longest life; keep it below the request timeout (Cloud Run's is 5 min). */
    STREAM_MAX_LIFETIME_MS: z.coerce.number().int().min(100).default(270_000),
    /** Change streams one instance holds at most; one more is 503 with Retry-After. */
    STREAM_MAX_CONNECTIONS: z.coerce.number().int().min(0).default(2_000),
    /** Catch-up reads one instance runs at once; streams past it wait their turn, heartbeats going on. */
    STREAM_MAX_CATCHUPS: z.coerce.number().int().min(1).default(32),
    /** Bytes queued for a stream's client past which it is disconnected as too slow. */
    STREAM_MAX_BUFFER_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
    /** `shared`: one Firestore listener per instance and feed; `per-connection`: one per stream (for comparison). */
    STREAM_LISTENERS: z.enum(["shared", "per-connection"]).default("shared"),
    /**
     * How long a shared listener stays after its feed's last stream ends, so clients resuming
     * catch up from its snapshot instead of reading the feed; 0 stops it at once.
     */
    STREAM_LISTENER_LINGER_MS: z.coerce.number().int().min(0).default(60_000),
    /**
     * How long after its clock (the time Firestore took its request) a commit is assumed
     * visible: live listeners start this far back, and a feed read looks this far back for
     * commits that became visible after the read that gave the cursor.
     */
    CHANGE_SETTLE_MS: z.coerce.number().int().min(0).default(10_000),
    /** Browser app origins allowed to call the service (CORS), comma-separated; none by default. */
    CORS_ORIGINS: corsOriginsSchema,
  }),
  8081,
);
export type SyncConfig = z.infer<typeof syncEnvSchema>;
