import { join } from "node:path";
import {
  freePort,
  type ManagedProcess,
  nodeOptionsOf,
  repoRoot,
  startService,
} from "@syncstack/local-stack";
import type { ServiceName } from "@syncstack/shared";
import { serviceEnvironment } from "@syncstack/shared/provision";

/** A service started as its own process for a benchmark, as the stack runs it. */
export interface BenchService {
  url: string;
  process: ManagedProcess;
}

/** Starts a service on a free port with the given environment; resolves once healthy. */
export async function startBenchService(
  name: ServiceName,
  env: Record<string, string>,
  options: { nodeArgs?: string[] } = {},
): Promise<BenchService> {
  const port = await freePort();
  const managed = startService(name, {
    command: process.execPath,
    args: [
      "--conditions=source",
      ...nodeOptionsOf(name),
      // BENCH_PROFILE_DIR=dir writes the service's CPU profile there when it stops.
      ...(process.env.BENCH_PROFILE_DIR
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
        : []),
      ...(options.nodeArgs ?? []),
      join(repoRoot, "services", name, "src", "main.ts"),
    ],
    env: {
      ...process.env,
      PORT: String(port),
      METADATA_SERVER_DETECTION: "none",
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "WARNING",
      ...serviceEnvironment[name],
      ...env,
    },
    log: (line) => process.stderr.write(`${name} | ${line}\n`),
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 150; i++) {
    const healthy = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) return { url, process: managed };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await managed.stop();
  throw new Error(`${name} did not become healthy`);
}
