// The console's server: `./syncstack up` starts it with the app from source (CONSOLE_DEV_ROOT),
// production with the built app (CONSOLE_APP_DIR). docs/console.md.
import {
  ConfigError,
  createClients,
  createLogger,
  loadAccessRules,
  loadConfig,
  Publisher,
  serve,
  setupTelemetry,
  tokenVerifierFor,
} from "@syncstack/shared";
import { GoogleAuth } from "google-auth-library";
import { type ConsoleConfig, consoleEnvSchema, telemetrySourceOf } from "./config.ts";
import { createConsoleServer } from "./console-app.ts";
import { builtPages, devPages } from "./pages.ts";

let config: ConsoleConfig;
try {
  config = loadConfig(consoleEnvSchema);
  if ((config.CONSOLE_APP_DIR === undefined) === (config.CONSOLE_DEV_ROOT === undefined)) {
    throw new ConfigError(
      "Invalid configuration:\n  set exactly one of CONSOLE_APP_DIR (the built app) and CONSOLE_DEV_ROOT (apps/console)",
    );
  }
  telemetrySourceOf(config);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`console: ${error.message}\n`);
  process.exit(1);
}
const telemetry = setupTelemetry({
  serviceName: "console",
  exporter: config.OTEL_TRACES_EXPORTER,
  metricsExporter: config.OTEL_METRICS_EXPORTER,
  otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
  projectId: config.GOOGLE_CLOUD_PROJECT,
  spanExportDelayMs: config.OTEL_BSP_SCHEDULE_DELAY,
  metricExportIntervalMs: config.OTEL_METRIC_EXPORT_INTERVAL,
  tracesPerSecond: config.OTEL_TRACES_PER_SECOND,
});
const logger = createLogger({
  projectId: config.GOOGLE_CLOUD_PROJECT,
  level: config.LOG_LEVEL,
  fields: { service: "console" },
});
const clients = createClients(config);
const publisher = new Publisher(clients.pubsub, { deadlineMs: config.DEADLINE_MS });
// Read-only scopes: the account reads Cloud Trace and Cloud Monitoring, it writes nothing there.
const googleAuth = new GoogleAuth({
  scopes: [
    "https://www.googleapis.com/auth/trace.readonly",
    "https://www.googleapis.com/auth/monitoring.read",
  ],
});
const googleHeaders = async () => ({
  ...Object.fromEntries((await googleAuth.getRequestHeaders()).entries()),
  "x-goog-user-project": config.GOOGLE_CLOUD_PROJECT,
});
const dev = config.CONSOLE_DEV_ROOT
  ? await devPages(config.CONSOLE_DEV_ROOT, process.env.SYNCSTACK_APP_CACHE_DIR)
  : undefined;
const server = createConsoleServer({
  config,
  logger,
  firestore: clients.firestore,
  pubsub: clients.pubsub,
  publisher,
  verifyToken: tokenVerifierFor(config),
  googleHeaders,
  ...(process.env.ACCESS_RULES_FILE
    ? { rules: loadAccessRules(process.env.ACCESS_RULES_FILE) }
    : {}),
  serviceUrls: Object.fromEntries(
    ["sync", "files", "backup", "analytics"].flatMap((name) => {
      const url = process.env[`${name.toUpperCase()}_URL`];
      return url ? [[name, url]] : [];
    }),
  ),
  pages: dev ? [dev.handler] : builtPages(config.CONSOLE_APP_DIR ?? ""),
});
await serve(server.app, {
  port: config.PORT,
  host: config.HOST,
  logger,
  graceMs: config.SHUTDOWN_GRACE_MS,
  handleSignals: true,
  onDrain: () => server.live.close(),
  onShutdown: async () => {
    await server.close();
    await dev?.close();
    await publisher.close();
    await Promise.allSettled([clients.firestore.terminate(), clients.pubsub.close()]);
    await telemetry.shutdown();
  },
});
