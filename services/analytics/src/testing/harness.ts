import {
  closeServiceContext,
  createServiceApp,
  createServiceContext,
  type LogFields,
  loadConfig,
  type RealtimeUpdate,
  realtimeUpdates,
  type ServiceContext,
  statsTick,
  subscriptionName,
  type TopicSpec,
  userCreated,
} from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { emulatorIdToken, listen, memoryLogger, testEnv } from "@syncstack/shared/testing";
import { analyticsService } from "../app.ts";
import { type AnalyticsConfig, analyticsEnvSchema } from "../config.ts";

/** The analytics service built in-process on a free port, as the emulator tests drive it. */
export interface Harness {
  ctx: ServiceContext<AnalyticsConfig>;
  service: ReturnType<typeof analyticsService>;
  url: string;
  /** What the service logged, at every level. */
  logs: LogFields[];
  /** POSTs a push envelope as Pub/Sub does (a redelivery reuses the message id); the status. */
  push(topic: TopicSpec, payload: unknown, messageId?: string): Promise<number>;
  /** GET with an emulator ID token for `uid` (none when undefined). */
  get(path: string, uid?: string): Promise<Response>;
  close(): Promise<void>;
}

let messages = 0;

/**
 * Starts the service; with `subscribe`, provisions the registry's push subscriptions to it
 * so that messages published to the topics reach it as in the local stack.
 */
export async function startAnalytics(
  projectId: string,
  options: { subscribe: boolean; env?: Record<string, string> },
): Promise<Harness> {
  const config = loadConfig(
    analyticsEnvSchema,
    testEnv(projectId, { FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099", ...options.env }),
  );
  const { logger, entries } = memoryLogger(projectId);
  const ctx = createServiceContext("analytics", config, { logger });
  const service = analyticsService(ctx);
  const server = await listen(createServiceApp(ctx, service));
  if (options.subscribe) {
    await provisionTopology(ctx.pubsub, [realtimeUpdates, userCreated, statsTick], {
      serviceUrls: { analytics: server.url },
      nativePolicies: false,
    });
  }
  return {
    ctx,
    service,
    url: server.url,
    logs: entries,
    push: async (topic, payload, messageId = `direct-${++messages}`) => {
      const response = await fetch(`${server.url}/pubsub/${topic.name}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          subscription: `projects/${projectId}/subscriptions/${subscriptionName(topic, "analytics")}`,
          message: {
            data: Buffer.from(JSON.stringify(payload)).toString("base64"),
            attributes: { schema_version: String(topic.schemaVersion) },
            messageId,
            publishTime: new Date().toISOString(),
          },
        }),
      });
      return response.status;
    },
    get: (path, uid) =>
      fetch(`${server.url}${path}`, {
        headers: uid ? { authorization: `Bearer ${emulatorIdToken(projectId, uid)}` } : {},
      }),
    close: async () => {
      await service.folder.stop();
      await server.close();
      await closeServiceContext(ctx);
    },
  };
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
