import { accessSync, constants } from "node:fs";
import { mkdir } from "node:fs/promises";
import { delimiter, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { summariseExpectedFailures } from "./emulator-log-filter.ts";
import { exportFirestore, latestFirestoreExport } from "./firestore-export.ts";
import { assertPortFree } from "./free-port.ts";
import { startService } from "./process-group.ts";

const platform = "/usr/lib/google-cloud-sdk/platform";
const launchers = {
  pubsub: {
    path: `${platform}/pubsub-emulator/bin/cloud-pubsub-emulator`,
    label: "Pub/Sub emulator",
    pkg: "google-cloud-cli-pubsub-emulator",
  },
  firestore: {
    path: `${platform}/cloud-firestore-emulator/cloud_firestore_emulator`,
    label: "Firestore emulator",
    pkg: "google-cloud-cli-firestore-emulator",
  },
} as const;

/** Which emulator to run. */
export type EmulatorKind = keyof typeof launchers;

/** How to run an emulator; `dataDir` (Firestore only) keeps `projectId`'s data across restarts. */
export type EmulatorOptions = {
  port: number;
  heapMiB?: number;
  dataDir?: string;
  projectId?: string;
  onLog?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
};

/** An emulator that answered its health check; `stop()` exports (if persistent) and kills it. */
export type RunningEmulator = {
  kind: EmulatorKind | "auth";
  host: string;
  pid: number;
  stop(): Promise<void>;
};

/** Lists, as instructions for a human, what must be installed before the emulators can run. */
export function checkEmulatorPrerequisites(env: NodeJS.ProcessEnv = process.env): string[] {
  const problems: string[] = [];
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  if (!dirs.some((dir) => isExecutable(join(dir, "java")))) {
    problems.push("java is not on PATH: install Java 17: apt-get install openjdk-17-jre-headless");
  }
  for (const launcher of Object.values(launchers)) {
    if (!isExecutable(launcher.path)) {
      problems.push(
        `${launcher.path} is missing: install the ${launcher.label}: apt-get install ${launcher.pkg}`,
      );
    }
  }
  return problems;
}

/** Starts an emulator on 127.0.0.1:port and resolves once `GET /` answers `Ok`. */
export async function startEmulator(
  kind: EmulatorKind,
  opts: EmulatorOptions,
): Promise<RunningEmulator> {
  const { path, label } = launchers[kind];
  const host = `127.0.0.1:${opts.port}`;
  const { projectId } = opts;
  const dataDir = opts.dataDir === undefined ? undefined : resolve(opts.dataDir);
  if (dataDir !== undefined && (kind !== "firestore" || projectId === undefined)) {
    throw new Error(
      "dataDir needs kind firestore and a projectId: the emulator exports one project at a time",
    );
  }
  await assertPortFree(opts.port, label, "stop whatever listens there or choose another port");
  const env: NodeJS.ProcessEnv = {
    ...(opts.env ?? process.env),
    METADATA_SERVER_DETECTION: "none",
  };
  const heapMiB = opts.heapMiB ?? (kind === "firestore" ? 512 : undefined);
  if (heapMiB !== undefined) {
    env.JAVA_TOOL_OPTIONS = `${env.JAVA_TOOL_OPTIONS ?? ""} -Xmx${heapMiB}m`.trim();
  }
  const args = [`--host=127.0.0.1`, `--port=${opts.port}`];
  if (kind === "firestore") args.unshift("start", "--database-mode=firestore-native");
  if (dataDir !== undefined) {
    await mkdir(dataDir, { recursive: true });
    const previous = await latestFirestoreExport(dataDir);
    if (previous !== undefined) args.push(`--import-data=${previous}`);
  }
  const recent: string[] = [];
  const onLog = opts.onLog;
  // Normal outcomes (a create on an existing document...) would otherwise fill the log with traces.
  const logLine = onLog && kind === "firestore" ? summariseExpectedFailures(onLog) : onLog;
  const service = startService(kind, {
    command: path,
    args,
    env,
    log: (line) => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      logLine?.(line);
    },
  });
  const tail = () => (recent.length > 0 ? `; last output:\n${recent.join("\n")}` : "");
  const polling = new AbortController();
  const outcome = await Promise.race([
    service.exited.then((code) => ({ exited: code })),
    waitUntilReady(host, 30_000, polling.signal).then((ready) => ({ ready })),
  ]);
  polling.abort();
  if ("exited" in outcome) {
    await service.stop(1_000);
    throw new Error(`${label} exited with code ${outcome.exited} before it was ready${tail()}`);
  }
  if (!outcome.ready) {
    await service.stop(5_000);
    throw new Error(`${label} did not answer on ${host} within 30 s${tail()}`);
  }
  const stop = async () => {
    let failure: Error | undefined;
    // Not --export-on-exit: it writes nothing on a signal and fails on "(default)" otherwise.
    if (dataDir !== undefined && projectId !== undefined) {
      await exportFirestore(host, projectId, dataDir).catch((cause: unknown) => {
        failure = new Error(`${label}: export to ${dataDir} failed, data since start is lost`, {
          cause,
        });
      });
    }
    await service.stop(5_000);
    if (failure !== undefined) throw failure;
  };
  let stopping: Promise<void> | undefined;
  return { kind, host, pid: service.pid, stop: () => (stopping ??= stop()) };
}

/** Stops every emulator even when some fail, then reports the failures together. */
export async function stopAll(emulators: readonly RunningEmulator[]): Promise<void> {
  const results = await Promise.allSettled(emulators.map((emulator) => emulator.stop()));
  const errors = results.flatMap((result) => (result.status === "rejected" ? [result.reason] : []));
  if (errors.length > 0)
    throw new AggregateError(errors, `${errors.length} emulator(s) did not stop cleanly`);
}

async function waitUntilReady(
  host: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    try {
      const response = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1_000) });
      if (response.status === 200 && (await response.text()).trim() === "Ok") return true;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return false;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
