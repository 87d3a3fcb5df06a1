import { baseEnvSchema, ConfigError, withDefaultPort } from "@syncstack/shared";
import { z } from "zod";

/** The console server's environment (docs/console.md). */
export const consoleEnvSchema = withDefaultPort(
  baseEnvSchema.extend({
    /** The backup service, whose admin routes the Backups page calls with the admin's token. */
    BACKUP_URL: z.url(),
    /** The analytics service, whose `/v1/stats` the Analytics page calls with the admin's token. */
    ANALYTICS_URL: z.url(),
    /** The telemetry collector's read API (traces, metric series), when one runs. */
    TELEMETRY_URL: z.url().optional(),
    /**
     * Where traces and rates come from: the collector, Cloud Trace and Cloud Monitoring, or
     * nowhere. Unset: chosen by `telemetrySourceOf`.
     */
    CONSOLE_TELEMETRY_SOURCE: z.enum(["collector", "cloud", "none"]).optional(),
    /** Cloud Trace's API base URL (a test points it at a local server). */
    CLOUD_TRACE_URL: z.url().default("https://cloudtrace.googleapis.com"),
    /** Cloud Monitoring's API base URL (a test points it at a local server). */
    CLOUD_MONITORING_URL: z.url().default("https://monitoring.googleapis.com"),
    /** The built console app (apps/console/dist) to serve; production. */
    CONSOLE_APP_DIR: z.string().min(1).optional(),
    /** apps/console, served through Vite's dev middleware (no build); the local stack. */
    CONSOLE_DEV_ROOT: z.string().min(1).optional(),
    /** Firebase's web API key the app signs in with (any value against the Auth emulator). */
    FIREBASE_API_KEY: z.string().min(1).optional(),
    FIREBASE_AUTH_DOMAIN: z.string().min(1).optional(),
    /** How often the live stream sends a fresh snapshot to the pages open. */
    LIVE_INTERVAL_MS: z.coerce.number().int().min(200).max(60_000).default(2_000),
  }),
  8090,
);
export type ConsoleConfig = z.infer<typeof consoleEnvSchema>;

/** Where the console reads traces and metric series from. */
export type TelemetrySource = "collector" | "cloud" | "none";

/**
 * The rule (docs/console.md): `CONSOLE_TELEMETRY_SOURCE` when set (`collector` needs
 * TELEMETRY_URL); else the collector when TELEMETRY_URL is set; else Google Cloud when on
 * Cloud Run (K_SERVICE) with no emulator host; else none.
 */
export function telemetrySourceOf(config: ConsoleConfig): TelemetrySource {
  const chosen = config.CONSOLE_TELEMETRY_SOURCE;
  if (chosen === "collector" && config.TELEMETRY_URL === undefined) {
    throw new ConfigError(
      "Invalid configuration:\n  CONSOLE_TELEMETRY_SOURCE=collector needs TELEMETRY_URL (the collector's read API)",
    );
  }
  if (chosen !== undefined) return chosen;
  if (config.TELEMETRY_URL !== undefined) return "collector";
  const emulated =
    config.FIRESTORE_EMULATOR_HOST !== undefined || config.PUBSUB_EMULATOR_HOST !== undefined;
  return config.K_SERVICE !== undefined && !emulated ? "cloud" : "none";
}
