import { type RealtimeUpdate, realtimeUpdates, statsTick, userCreated } from "@syncstack/shared";
import { startServiceUnderTest } from "@syncstack/shared/testing";
import { analyticsService } from "../app.ts";
import { analyticsEnvSchema } from "../config.ts";

/** The analytics service under the shared harness, as its emulator tests drive it. */
export type Analytics = Awaited<ReturnType<typeof startAnalytics>>;

/**
 * Starts the service on the shared harness; with `subscribe`, provisions the registry's push
 * subscriptions to it so that messages published to the topics reach it as in the local
 * stack. Closing folds what its folder holds first.
 */
export function startAnalytics(
  projectId: string,
  options: { subscribe: boolean; env?: Record<string, string> },
) {
  return startServiceUnderTest(
    {
      name: "analytics",
      envSchema: analyticsEnvSchema,
      define: (context) => analyticsService(context),
    },
    {
      projectId,
      env: options.env,
      topics: options.subscribe ? [realtimeUpdates, userCreated, statsTick] : undefined,
      beforeClose: (definition) => definition.folder.stop(),
    },
  );
}

/** A `realtime-updates` event by `uid` creating document `n` of theirs, with overrides. */
export function activity(uid: string, n: number, overrides: Partial<RealtimeUpdate> = {}) {
  return {
    collection: "notes",
    document: `${uid}-doc-${n}`,
    timestamp: new Date().toISOString(),
    op: "create" as const,
    version: 1,
    source: "test",
    uid,
    ...overrides,
  } satisfies RealtimeUpdate;
}
