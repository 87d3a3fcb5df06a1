import { z } from "zod";
import { defineTopic } from "./topic.ts";

/** A request to back up the configured collections (Cloud Scheduler's carries no time). */
export const backupRequestedSchema = z.object({
  requested_at: z.iso.datetime({ offset: true }).optional(),
  type: z.enum(["automated", "manual"]),
  /** The id the backup's record gets, so the requester can follow it (`./syncstack backup --wait`). */
  backup_id: z
    .string()
    .regex(/^\d{8}T\d{9}Z-[0-9a-f]{6}$/, "must be a backup id (20261203T180544307Z-446fc0)")
    .optional(),
});
export type BackupRequested = z.output<typeof backupRequestedSchema>;

/**
 * `backup-requested`: daily at 02:00 from the scheduler, or by an operator (the CLI, or the
 * backup service's `POST /v1/backups`, which the console calls).
 */
export const backupRequested = defineTopic({
  name: "backup-requested",
  description: "Back up Firestore to Cloud Storage",
  schema: backupRequestedSchema,
  schemaVersion: 1,
  retry: { minBackoffSeconds: 60, maxBackoffSeconds: 600, maxDeliveryAttempts: 5 },
  publishers: ["backup"],
  subscriptions: [{ service: "backup", delivery: "push", ackDeadlineSeconds: 600 }],
  manualPayload: (now) => ({ requested_at: now.toISOString(), type: "manual" as const }),
  schedule: {
    cron: "0 2 * * *",
    timeZone: "UTC",
    payload: (at) => ({ requested_at: at.toISOString(), type: "automated" as const }),
    cloudPayload: { type: "automated" as const },
  },
});
