import { join } from "node:path";
import { repoRoot } from "./paths.ts";
import { type ManagedProcess, startService } from "./process-group.ts";

/** What the console server is told about the stack it runs against. */
export interface ConsoleServerOptions {
  port: number;
  /** The environment the services run with (the emulators, the project, HOST). */
  env: NodeJS.ProcessEnv;
  serviceUrls: Record<string, string>;
  /** The telemetry collector, whose traces and metric series the console shows. */
  telemetryUrl?: string;
  /** Vite's dependency cache for this stack's console (stacks side by side must not share one). */
  cacheDir: string;
  log: (line: string) => void;
}

/**
 * Starts the ops console (tools/console-server) on 127.0.0.1:port, serving apps/console from
 * source through Vite's dev middleware, against the stack's emulators and services.
 */
export function startConsoleServer(options: ConsoleServerOptions): ManagedProcess {
  return startService("console", {
    command: process.execPath,
    args: ["--conditions=source", join(repoRoot, "tools/console-server/src/main.ts")],
    cwd: repoRoot,
    env: {
      ...options.env,
      PORT: String(options.port),
      CONSOLE_DEV_ROOT: join(repoRoot, "apps", "console"),
      ACCESS_RULES_FILE: join(repoRoot, "services", "sync", "access-rules.json"),
      SYNCSTACK_APP_CACHE_DIR: options.cacheDir,
      ...(options.telemetryUrl ? { TELEMETRY_URL: options.telemetryUrl } : {}),
      ...Object.fromEntries(
        Object.entries(options.serviceUrls).map(([name, url]) => [
          `${name.toUpperCase()}_URL`,
          url,
        ]),
      ),
    },
    log: options.log,
  });
}
