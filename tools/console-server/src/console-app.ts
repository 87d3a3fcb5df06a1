import type { Firestore } from "@google-cloud/firestore";
import type { PubSub } from "@google-cloud/pubsub";
import {
  type AccessRules,
  createApp,
  firestoreJson,
  type Logger,
  type Publisher,
  type TokenVerifier,
  topics,
  withDeadline,
} from "@syncstack/shared";
import type { Express, RequestHandler } from "express";
import { backupRoutes } from "./backup-routes.ts";
import { CloudMetricsSource } from "./cloud-metrics.ts";
import { CloudTraceSource } from "./cloud-trace.ts";
import { type ConsoleConfig, telemetrySourceOf } from "./config.ts";
import { dataRoutes } from "./data-routes.ts";
import { deadLetterRoutes, SerialDeadLetters } from "./dead-letter-routes.ts";
import { LiveFeed } from "./live-feed.ts";
import { requireAdmin } from "./require-admin.ts";
import { statsRoutes } from "./stats-routes.ts";
import { readTopology } from "./topology.ts";
import { readTopologyMetrics, type TopologyMetrics } from "./topology-metrics.ts";
import { type TraceReader, traceRoutes } from "./trace-routes.ts";

/** What the console's app is built from; tests pass their own. */
export interface ConsoleDependencies {
  config: ConsoleConfig;
  logger: Logger;
  firestore: Firestore;
  pubsub: PubSub;
  publisher: Publisher;
  verifyToken: TokenVerifier;
  /** The app's access rules, to label collections with their policy. */
  rules?: AccessRules;
  /** The services' URLs, for their health on the topology. */
  serviceUrls?: Partial<Record<string, string>>;
  /** Serve the console app's pages (Vite's middleware locally, the built files in production). */
  pages?: RequestHandler[];
  fetch?: typeof fetch;
  /**
   * The console account's `Authorization` header for Cloud Trace and Cloud Monitoring, when
   * they are the telemetry source (main.ts: google-auth-library).
   */
  googleHeaders?: () => Promise<Record<string, string>>;
}

/** The console's server, and how to end its streams and clients. */
export interface ConsoleServer {
  app: Express;
  live: LiveFeed;
  close(): Promise<void>;
}

/**
 * The console's express app: the pages, the public `/console-config.json` the app signs in
 * with, and the admin-only `/v1/console` API (topology, dead letters, stats, data, and the
 * live stream), with the services' JSON errors.
 */
export function createConsoleServer(deps: ConsoleDependencies): ConsoleServer {
  const { config } = deps;
  const get = deps.fetch ?? fetch;
  const letters = new SerialDeadLetters(deps.pubsub);
  const telemetry = telemetrySources(deps, get);
  const snapshot = async () => {
    const counts = await letters.run(async (store) => {
      const all = await store.list();
      const bySource: Record<string, number> = {};
      for (const letter of all) {
        const source = letter.sourceSubscription?.slice(
          letter.sourceSubscription.lastIndexOf("/") + 1,
        );
        if (source) bySource[source] = (bySource[source] ?? 0) + 1;
      }
      return {
        byTopic: Object.fromEntries(
          topics.map((topic) => [topic.name, all.filter((l) => l.topic === topic.name).length]),
        ),
        bySubscription: bySource,
      };
    });
    const [topology, latest, metrics, backups] = await Promise.all([
      readTopology({
        pubsub: deps.pubsub,
        serviceUrls: deps.serviceUrls ?? {},
        deadLetterCounts: counts,
        fetch: get,
      }),
      withDeadline("firestore.stats.get", config.DEADLINE_MS, () =>
        deps.firestore.doc("analytics/daily_stats").get(),
      ),
      telemetry.metrics(),
      // The latest backups' states, so the Backups page sees one complete without polling.
      withDeadline("firestore.backups.latest", config.DEADLINE_MS, () =>
        deps.firestore.collection("backups").orderBy("created_at", "desc").limit(10).get(),
      ),
    ]);
    const { at: _at, ...shape } = topology;
    return {
      topology: shape,
      metrics,
      backups: backups.docs.map((record) => ({
        id: record.id,
        status: String(record.get("status") ?? "unknown"),
      })),
      stats: latest.exists ? firestoreJson(latest.data() ?? {}) : null,
    };
  };
  const live = new LiveFeed(snapshot, config.LIVE_INTERVAL_MS, deps.logger);
  const admin = requireAdmin(deps.verifyToken);
  const app = createApp({
    name: "console",
    logger: deps.logger,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    readiness: {
      firestore: () => deps.firestore.collection("_readyz").limit(1).get(),
    },
    routes: (routes) => {
      routes.get("/console-config.json", (_request, response) => {
        const emulator = config.FIREBASE_AUTH_EMULATOR_HOST;
        response.json({
          project_id: config.GOOGLE_CLOUD_PROJECT,
          api_key: config.FIREBASE_API_KEY ?? (emulator ? "demo-api-key" : null),
          auth_domain: config.FIREBASE_AUTH_DOMAIN ?? null,
          auth_emulator_url: emulator ? `http://${emulator}` : null,
          telemetry: telemetry.traces.kind !== "none",
        });
      });
      routes.get("/v1/console/topology", ...admin, async (_request, response) => {
        response.json(await snapshot());
      });
      routes.get("/v1/console/live", ...admin, (_request, response) => {
        live.add(response);
      });
      deadLetterRoutes(routes, admin, letters, deps.publisher, () => void live.tick());
      statsRoutes(routes, admin, config.ANALYTICS_URL, get);
      backupRoutes(routes, admin, config.BACKUP_URL, () => void live.tick(), get);
      traceRoutes(routes, admin, telemetry.traces, get);
      dataRoutes(routes, admin, deps.firestore, deps.rules, config.DEADLINE_MS);
      for (const handler of deps.pages ?? []) routes.use(handler);
    },
  });
  return {
    app,
    live,
    close: async () => {
      live.close();
      await letters.close();
    },
  };
}

/** The traces and rates of the source the config chooses (docs/console.md). */
function telemetrySources(
  deps: ConsoleDependencies,
  get: typeof fetch,
): { traces: TraceReader; metrics: () => Promise<TopologyMetrics> } {
  const { config } = deps;
  const source = telemetrySourceOf(config);
  if (source === "cloud") {
    const headers = deps.googleHeaders;
    if (headers === undefined) throw new Error("the cloud telemetry source needs googleHeaders");
    const options = { projectId: config.GOOGLE_CLOUD_PROJECT, headers, fetch: get };
    const metrics = new CloudMetricsSource({ ...options, baseUrl: config.CLOUD_MONITORING_URL });
    return {
      traces: {
        kind: "cloud",
        source: new CloudTraceSource({ ...options, baseUrl: config.CLOUD_TRACE_URL }),
      },
      metrics: () => metrics.read(),
    };
  }
  const url = source === "collector" ? config.TELEMETRY_URL : undefined;
  return {
    traces: url === undefined ? { kind: "none" } : { kind: "collector", url },
    metrics: () => readTopologyMetrics(url, get),
  };
}
