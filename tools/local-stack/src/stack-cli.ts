// `./syncstack up`: the whole local stack in one command; Ctrl-C or SIGTERM stops everything.
import { join } from "node:path";
import { serviceNames } from "@syncstack/shared";
import { parseCommandLine, usageError } from "@syncstack/shared/cli";
import { freePort } from "./free-port.ts";
import { repoRoot } from "./paths.ts";
import { type StackOptions, startStack } from "./stack.ts";

// Local processes never reach for the cloud metadata server: nothing may leave loopback.
process.env.METADATA_SERVER_DETECTION = "none";
// The stack runs its own storage emulator; @google-cloud/storage prefers this variable over
// the endpoint it is given, so one inherited from elsewhere must not leak in.
delete process.env.STORAGE_EMULATOR_HOST;

const defaults = {
  pubsub: 8085,
  firestore: 8080,
  auth: 9099,
  storage: 4443,
  sync: 8081,
  files: 8082,
  backup: 8083,
  analytics: 8084,
  app: 5173,
  telemetry: 4318,
  console: 8090,
};
const usage = `usage: ./syncstack up [--persist] [--free-ports] [--<part>-port <n>]... [options]

Starts the Pub/Sub, Firestore and Firebase Auth emulators, the storage emulator, the telemetry
collector, the four services (on 127.0.0.1, exporting traces and metrics to the collector),
the scheduler, the demo notes app (Vite) and the ops console, provisions topics, subscriptions and buckets, and writes the
endpoints to <state-dir>/stack.json. SIGINT (Ctrl-C) or SIGTERM stops everything.

  --persist                 keep Firestore and storage data across restarts (in <state-dir>);
                            without it both start empty
  --free-ports              any free port for each part instead of the defaults
  --<part>-port <n>         ${Object.entries(defaults)
    .map(([part, port]) => `${part} ${port}`)
    .join(", ")}
  --project <id>            the emulators' project (default $GOOGLE_CLOUD_PROJECT or demo-syncstack)
  --state-dir <dir>         default .syncstack/ in the repository
  --firestore-heap-mib <n>  the Firestore emulator's Java heap (default 768)
  -h, --help                this text`;

const { values } = parseCommandLine(
  {
    options: {
      project: { type: "string", default: process.env.GOOGLE_CLOUD_PROJECT ?? "demo-syncstack" },
      persist: { type: "boolean", default: false },
      "free-ports": { type: "boolean", default: false },
      "state-dir": { type: "string", default: join(repoRoot, ".syncstack") },
      "firestore-heap-mib": { type: "string", default: "768" },
      help: { type: "boolean", short: "h" },
      ...Object.fromEntries(
        Object.keys(defaults).map((part) => [`${part}-port`, { type: "string" as const }]),
      ),
    },
  },
  usage,
  usageError("syncstack up", usage),
);

async function port(part: keyof typeof defaults): Promise<number> {
  const given = values[`${part}-port` as keyof typeof values];
  if (typeof given === "string") {
    const parsed = Number(given);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65_535) {
      throw new Error(`--${part}-port ${given} is not a port number`);
    }
    return parsed;
  }
  return values["free-ports"] ? freePort() : defaults[part];
}

try {
  const ports = {
    pubsub: await port("pubsub"),
    firestore: await port("firestore"),
    auth: await port("auth"),
    storage: await port("storage"),
    ...Object.fromEntries(
      await Promise.all(serviceNames.map(async (name) => [name, await port(name)])),
    ),
    app: await port("app"),
    telemetry: await port("telemetry"),
    console: await port("console"),
  } as StackOptions["ports"];
  const stack = await startStack({
    projectId: String(values.project),
    ports,
    stateDir: String(values["state-dir"]),
    persist: values.persist === true,
    firestoreHeapMiB: Number(values["firestore-heap-mib"]),
  });
  const { file } = stack;
  process.stdout.write(
    [
      "",
      "syncstack is up:",
      `  Pub/Sub emulator    ${file.pubsub}`,
      `  Firestore emulator  ${file.firestore}`,
      `  Auth emulator       ${file.auth}`,
      `  storage emulator    ${file.storage}`,
      ...serviceNames.map((name) => `  ${`${name} service`.padEnd(19)} ${file.services[name]}`),
      `  notes app           ${file.app}`,
      `  telemetry collector ${file.telemetry} (/api/traces, /api/metrics)`,
      `  console             ${file.console}`,
      `  endpoints file      ${join(String(values["state-dir"]), "stack.json")}`,
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping the stack\n`);
      stack.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`stopping failed: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
    });
  }
} catch (error) {
  process.stderr.write(`syncstack: ${(error as Error).message}\n`);
  process.exit(1);
}
