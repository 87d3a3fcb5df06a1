import { join } from "node:path";
import type { PubSub } from "@google-cloud/pubsub";
import { freePort, type ManagedProcess, repoRoot, startService } from "@syncstack/local-stack";
import { realtimeUpdates, statsTick, userCreated } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { resetFirestore } from "@syncstack/shared/testing";

export interface BenchEnv {
  pubsub: string;
  firestore: string;
}

/** The analytics service as its own process, as the stack runs it. */
export interface RunningAnalytics {
  url: string;
  process: ManagedProcess;
  /** Resolves with the fields of the next log line whose message is `message`. */
  logged(message: string): Promise<Record<string, unknown>>;
}

/** The benchmark's project, apart from the tests' and the dev stack's. */
export const projectId = "demo-bench-analytics";

/** Starts the service on a free port with push subscriptions to it; resolves once healthy. */
export async function startAnalytics(
  env: BenchEnv,
  pubsub: PubSub,
  logLevel: string,
): Promise<RunningAnalytics> {
  const port = await freePort();
  const waiting = new Map<string, (fields: Record<string, unknown>) => void>();
  const process_ = startService("analytics", {
    command: process.execPath,
    args: ["--conditions=source", join(repoRoot, "services/analytics/src/main.ts")],
    env: {
      ...process.env,
      PORT: String(port),
      GOOGLE_CLOUD_PROJECT: projectId,
      PUBSUB_EMULATOR_HOST: env.pubsub,
      FIRESTORE_EMULATOR_HOST: env.firestore,
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
      METADATA_SERVER_DETECTION: "none",
      LOG_LEVEL: logLevel,
    },
    log: (line) => {
      const entry = parse(line);
      const resolve = entry && waiting.get(String(entry.message));
      if (entry && resolve) resolve(entry);
      else if (entry?.severity !== "INFO") process.stderr.write(`analytics | ${line}\n`);
    },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    if (
      await fetch(`${url}/healthz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await provisionTopology(pubsub, [statsTick, realtimeUpdates, userCreated], {
    serviceUrls: { analytics: url },
    nativePolicies: false,
  });
  return {
    url,
    process: process_,
    logged: (message) => new Promise((resolve) => waiting.set(message, resolve)),
  };
}

function parse(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Deletes every document of the benchmark's project. */
export function resetDatabase(firestore: string): Promise<void> {
  return resetFirestore(projectId, firestore);
}
