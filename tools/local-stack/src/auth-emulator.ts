import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { RunningEmulator } from "./emulators.ts";
import { assertPortFree, freePort } from "./free-port.ts";
import { startService } from "./process-group.ts";

/** How to run the Firebase Auth emulator (firebase-tools, on Node: no Java needed). */
export type AuthEmulatorOptions = {
  port: number;
  projectId: string;
  /** Scratch directory for its firebase.json, config store and hub locator; emptied at start. */
  workDir: string;
  onLog?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
};

/** The firebase CLI of the workspace's firebase-tools (a devDependency of this package). */
export function firebaseCli(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve("firebase-tools/package.json");
    return join(dirname(manifest), "lib/bin/firebase.js");
  } catch {
    return undefined;
  }
}

/** What is missing before the Auth emulator can run, as instructions for a human. */
export function checkAuthEmulatorPrerequisites(): string[] {
  return firebaseCli() === undefined
    ? ["firebase-tools is not installed: run ./syncstack check (it runs pnpm install)"]
    : [];
}

/**
 * Starts `firebase emulators:start --only auth` on 127.0.0.1:port for `projectId` and resolves
 * once it says it is ready. It reaches nothing outside loopback: no update check, no message
 * of the day, no usage statistics, and the user's own firebase login and config are not seen.
 */
export async function startAuthEmulator(opts: AuthEmulatorOptions): Promise<RunningEmulator> {
  const label = "Auth emulator";
  const cli = firebaseCli();
  if (cli === undefined) throw new Error(checkAuthEmulatorPrerequisites().join("; "));
  const host = `127.0.0.1:${opts.port}`;
  await assertPortFree(opts.port, label, "stop whatever listens there or choose another port");
  const workDir = resolve(opts.workDir);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(join(workDir, "tmp"), { recursive: true });
  // The hub is firebase-tools' own registry of running emulators; it gets a port of its own
  // so that two stacks never race for its default 4400.
  const config = {
    emulators: {
      auth: { host: "127.0.0.1", port: opts.port },
      hub: { host: "127.0.0.1", port: await freePort() },
      ui: { enabled: false },
      singleProjectMode: true,
    },
  };
  const configFile = join(workDir, "firebase.json");
  await writeFile(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const env: NodeJS.ProcessEnv = {
    ...(opts.env ?? process.env),
    // CI skips the message-of-the-day fetch and, with NO_UPDATE_NOTIFIER, the npm update check.
    CI: "true",
    NO_UPDATE_NOTIFIER: "1",
    // A config store and home of its own: no login, no usage statistics (off unless opted in
    // there), no application default credentials to try for a project not named demo-*.
    XDG_CONFIG_HOME: join(workDir, "config"),
    HOME: workDir,
    // The hub writes its locator file to the temporary directory, one per project id.
    TMPDIR: join(workDir, "tmp"),
    METADATA_SERVER_DETECTION: "none",
  };
  const recent: string[] = [];
  const service = startService("auth", {
    command: process.execPath,
    args: [
      cli,
      "emulators:start",
      "--only",
      "auth",
      "--project",
      opts.projectId,
      "--config",
      configFile,
    ],
    env,
    cwd: workDir,
    log: (line) => {
      recent.push(line);
      if (recent.length > 20) recent.shift();
      opts.onLog?.(line);
    },
  });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const tail = () => (recent.length > 0 ? `; last output:\n${recent.join("\n")}` : "");
  const polling = new AbortController();
  const outcome = await Promise.race([
    service.exited.then((code) => ({ exited: code })),
    waitUntilReady(host, timeoutMs, polling.signal).then((ready) => ({ ready })),
  ]);
  polling.abort();
  if ("exited" in outcome) {
    await service.stop(1_000);
    throw new Error(`${label} exited with code ${outcome.exited} before it was ready${tail()}`);
  }
  if (!outcome.ready) {
    await service.stop(5_000);
    throw new Error(`${label} did not answer on ${host} within ${timeoutMs / 1_000} s${tail()}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    kind: "auth",
    host,
    pid: service.pid,
    stop: () => (stopping ??= service.stop(5_000)),
  };
}

/** Polls `GET /`, which answers `{"authEmulator": {"ready": true}}` once it serves requests. */
async function waitUntilReady(
  host: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !signal.aborted) {
    try {
      const response = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1_000) });
      const body = (await response.json()) as { authEmulator?: { ready?: boolean } };
      if (response.status === 200 && body.authEmulator?.ready === true) return true;
    } catch {
      // Not listening yet.
    }
    await sleep(100);
  }
  return false;
}
