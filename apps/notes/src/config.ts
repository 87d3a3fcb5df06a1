/** Where the app finds the sync service and Firebase Auth; `./syncstack up` sets these. */
export interface AppConfig {
  syncUrl: string;
  firebase: { apiKey: string; projectId: string; authDomain?: string };
  /** The Auth emulator's URL (`http://127.0.0.1:9099`); unset against real Firebase Auth. */
  authEmulatorUrl: string | undefined;
  /** Between polls of the change feed while the server has no live stream. */
  pollIntervalMs: number;
}

/** Reads the VITE_* variables the dev server (or a build) was given, naming any that is wrong. */
export function loadAppConfig(env: Record<string, string | undefined>): AppConfig {
  const syncUrl = env.VITE_SYNC_URL ?? "http://127.0.0.1:8081";
  if (!/^https?:\/\/[^/]+$/.test(syncUrl)) {
    throw new Error(
      `VITE_SYNC_URL ${JSON.stringify(syncUrl)} must be an origin like http://127.0.0.1:8081`,
    );
  }
  const authEmulatorUrl = env.VITE_AUTH_EMULATOR_URL || undefined;
  if (authEmulatorUrl !== undefined && !/^https?:\/\/[^/]+$/.test(authEmulatorUrl)) {
    throw new Error(
      `VITE_AUTH_EMULATOR_URL ${JSON.stringify(authEmulatorUrl)} must be a URL like http://127.0.0.1:9099`,
    );
  }
  const pollIntervalMs = Number(env.VITE_POLL_INTERVAL_MS ?? 500);
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 100) {
    throw new Error("VITE_POLL_INTERVAL_MS must be a whole number of milliseconds, at least 100");
  }
  const apiKey = env.VITE_FIREBASE_API_KEY ?? (authEmulatorUrl ? "demo-api-key" : undefined);
  if (!apiKey) throw new Error("VITE_FIREBASE_API_KEY is required without VITE_AUTH_EMULATOR_URL");
  return {
    syncUrl,
    authEmulatorUrl,
    pollIntervalMs,
    firebase: {
      apiKey,
      projectId: env.VITE_FIREBASE_PROJECT_ID ?? "demo-syncstack",
      ...(env.VITE_FIREBASE_AUTH_DOMAIN ? { authDomain: env.VITE_FIREBASE_AUTH_DOMAIN } : {}),
    },
  };
}
