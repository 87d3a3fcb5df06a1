import { z } from "zod";
import { defaultRetry, defineTopic } from "./topic.ts";

/**
 * A tick asking analytics to aggregate statistics as of `tick_at`; without it (Cloud
 * Scheduler's fixed message), as of the message's publish time.
 */
export const statsTickSchema = z.object({ tick_at: z.iso.datetime({ offset: true }).optional() });
export type StatsTick = z.output<typeof statsTickSchema>;

/** `stats-tick`: every 6 hours from the scheduler. */
export const statsTick = defineTopic({
  name: "stats-tick",
  description: "Aggregate user statistics",
  schema: statsTickSchema,
  schemaVersion: 1,
  retry: defaultRetry,
  publishers: [],
  subscriptions: [{ service: "analytics", delivery: "push", ackDeadlineSeconds: 120 }],
  manualPayload: (now) => ({ tick_at: now.toISOString() }),
  schedule: {
    cron: "0 */6 * * *",
    timeZone: "UTC",
    payload: (at) => ({ tick_at: at.toISOString() }),
    cloudPayload: {},
  },
});
