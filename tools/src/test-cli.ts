// Runs every test (or the files given) against real emulators started once for the run on
// free ports, so tests never touch a running dev stack. Test files isolate themselves by
// project id, which lets them run concurrently on the same emulators.
import { spawn } from "node:child_process";
import { once } from "node:events";
import {
  checkEmulatorPrerequisites,
  type RunningEmulator,
  startEmulator,
  stopAll,
} from "./emulators.ts";
import { freePort } from "./free-port.ts";
import { repoRoot } from "./paths.ts";

// Local processes never reach for the cloud metadata server: nothing may leave loopback.
process.env.METADATA_SERVER_DETECTION = "none";

const defaultPatterns = [
  "packages/*/src/**/*.test.ts",
  "services/*/src/**/*.test.ts",
  "tools/src/**/*.test.ts",
];

const problems = checkEmulatorPrerequisites();
if (problems.length > 0) {
  process.stderr.write(`cannot run the tests:\n  ${problems.join("\n  ")}\n`);
  process.exit(1);
}

const emulators: RunningEmulator[] = [];
let stopping = false;
const stop = async () => {
  stopping = true;
  await stopAll(emulators);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void stop().then(() => process.exit(130)));
}

const emulatorLog: string[] = [];
const keep = (kind: string) => (line: string) => {
  emulatorLog.push(`${kind} | ${line}`);
  if (emulatorLog.length > 200) emulatorLog.shift();
};
try {
  const [pubsubPort, firestorePort] = [await freePort(), await freePort()];
  emulators.push(
    ...(await Promise.all([
      startEmulator("pubsub", { port: pubsubPort, onLog: keep("pubsub") }),
      startEmulator("firestore", { port: firestorePort, heapMiB: 768, onLog: keep("firestore") }),
    ])),
  );
} catch (error) {
  await stop();
  process.stderr.write(
    `emulators did not start: ${(error as Error).message}\n${emulatorLog.join("\n")}\n`,
  );
  process.exit(1);
}

const [pubsub, firestore] = emulators;
const args = process.argv.slice(2);
const child = spawn(
  process.execPath,
  [
    "--conditions=source",
    "--test",
    "--test-concurrency=2",
    "--test-timeout=180000",
    ...(args.length > 0 ? args : defaultPatterns),
  ],
  {
    cwd: repoRoot,
    stdio: "inherit",
    env: {
      ...process.env,
      SYNCSTACK_TEST: "1",
      METADATA_SERVER_DETECTION: "none",
      PUBSUB_EMULATOR_HOST: pubsub?.host,
      FIRESTORE_EMULATOR_HOST: firestore?.host,
    },
  },
);
const [code] = (await once(child, "exit")) as [number | null];
if (!stopping) await stop();
process.exit(code ?? 1);
