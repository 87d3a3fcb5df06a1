import {
  requireUser,
  type ServiceContext,
  type ServiceDefinition,
  startSweeper,
  type TokenVerifier,
  tokenVerifierFor,
} from "@syncstack/shared";
import { ActivityFolder } from "./activity-folder.ts";
import type { AnalyticsConfig } from "./config.ts";
import { getStats } from "./get-stats.ts";
import { getUserStats } from "./get-user-stats.ts";
import { onRealtimeUpdate } from "./on-realtime-update.ts";
import { onStatsTick } from "./on-stats-tick.ts";
import { onUserCreated } from "./on-user-created.ts";

/** The analytics service: per-user activity statistics and the scheduled aggregation. */
export function analyticsService(
  context: ServiceContext<AnalyticsConfig>,
  verifyToken: TokenVerifier = tokenVerifierFor(context.config),
): ServiceDefinition & { folder: ActivityFolder } {
  const { config, firestore } = context;
  const folder = new ActivityFolder(firestore, context.logger, {
    intervalMs: config.FOLD_INTERVAL_MS,
    deadlineMs: config.DEADLINE_MS,
    sweepAgeMs: config.SWEEP_AGE_MS,
  });
  return {
    folder,
    consumers: [
      onUserCreated(firestore, config.DEADLINE_MS),
      onRealtimeUpdate(firestore, folder, config.DEADLINE_MS),
      onStatsTick(firestore, folder, {
        deadlineMs: config.DEADLINE_MS,
        aggregationDeadlineMs: config.AGGREGATION_DEADLINE_MS,
      }),
    ],
    routes: (app) => {
      const auth = requireUser(verifyToken);
      app.get("/v1/stats", auth, getStats(firestore, config.DEADLINE_MS));
      app.get("/v1/users/:uid/stats", auth, getUserStats(firestore, config.DEADLINE_MS));
    },
    start: () => {
      // At start-up too: the instance may replace one that crashed with deltas unfolded.
      const stop = startSweeper(() => folder.sweep(), {
        intervalMs: config.SWEEP_INTERVAL_MS,
        onError: (error) => context.logger.warn("activity sweep failed", { error }),
      });
      return async () => {
        await stop();
        await folder.stop();
      };
    },
  };
}

/** The environment the service reads, for tools that build the app in-process. */
export { analyticsEnvSchema } from "./config.ts";
