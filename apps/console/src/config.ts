/** What the console server tells the app (`/console-config.json`): where to sign in. */
export interface ConsoleConfig {
  project_id: string;
  api_key: string | null;
  auth_domain: string | null;
  /** The Auth emulator's URL on the local stack; null against real Firebase Auth. */
  auth_emulator_url: string | null;
  telemetry: boolean;
}

/** Reads the server's configuration for the app. */
export async function loadConsoleConfig(): Promise<ConsoleConfig> {
  const answer = await fetch("/console-config.json");
  if (!answer.ok) throw new Error(`/console-config.json answered ${answer.status}`);
  return (await answer.json()) as ConsoleConfig;
}
