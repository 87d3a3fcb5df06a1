import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
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
