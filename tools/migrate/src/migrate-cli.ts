// `./syncstack migrate --from <collection> --to <collection> [options]`: batch data migrations
// between Firestore collections (see parse-args.ts for the options, docs for examples).
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findTarget, NoTargetError, type Target } from "@syncstack/shared/cli";
import { parseArgs, usage } from "./parse-args.ts";

function badArguments(message: string): never {
  process.stderr.write(`migrate: ${message}\n\n${usage}\n`);
  process.exit(2);
}

const parsed = parseArgs(process.argv.slice(2));
if (parsed.kind === "help") {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (parsed.kind === "error") badArguments(parsed.message);
const { args } = parsed;
let target: Target;
try {
  target = await findTarget({ project: args.project, uses: ["firestore", "pubsub"] });
} catch (error) {
  if (!(error instanceof NoTargetError)) throw error;
  process.stderr.write(`migrate: ${error.message}\n`);
  process.exit(2);
}
if (target.kind === "stack") {
  process.env.FIRESTORE_EMULATOR_HOST = target.stack.firestore;
  process.env.PUBSUB_EMULATOR_HOST = target.stack.pubsub;
}
const emulator = target.kind === "cloud" ? undefined : process.env.FIRESTORE_EMULATOR_HOST;
// Against the emulator nothing may leave loopback, the metadata server included.
if (emulator) process.env.METADATA_SERVER_DETECTION = "none";
const project =
  target.kind === "emulators" ? (target.projectId ?? process.env.GCLOUD_PROJECT) : target.projectId;
if (emulator && !project) badArguments("set GOOGLE_CLOUD_PROJECT or --project for the emulator");
// Loaded once the arguments parse: the client libraries take most of a second to load, and
// --help or a typo should answer at once.
const { Firestore } = await import("@google-cloud/firestore");
const { PubSub } = await import("@google-cloud/pubsub");
const { AppError, describeError, loadAccessRules, Publisher } = await import("@syncstack/shared");
const { defaultCheckpointPath, defaultReportPath } = await import("./checkpoint.ts");
const { loadTransform } = await import("./load-transform.ts");
const { runMigration } = await import("./run-migration.ts");
// `./syncstack migrate` (and `pnpm migrate`) run in the repository root; relative paths mean
// the caller's directory.
const baseDir =
  process.env.SYNCSTACK_COMMAND === "migrate" && process.env.SYNCSTACK_CWD
    ? process.env.SYNCSTACK_CWD
    : process.env.npm_lifecycle_event === "migrate" && process.env.INIT_CWD
      ? process.env.INIT_CWD
      : process.cwd();

let transform: Awaited<ReturnType<typeof loadTransform>> | undefined;
try {
  transform = args.transform ? await loadTransform(args.transform, baseDir) : undefined;
} catch (error) {
  badArguments((error as Error).message);
}
const checkpointPath = resolve(
  baseDir,
  args.checkpoint ?? defaultCheckpointPath(baseDir, args.from, args.to),
);
const reportPath = resolve(baseDir, args.report ?? defaultReportPath(checkpointPath, args.dryRun));

// The client would retry an emulator that is not there for most of a minute before failing.
if (emulator) {
  const answer = await fetch(`http://${emulator}/`, { signal: AbortSignal.timeout(3_000) }).then(
    (response) => response.ok,
    () => false,
  );
  if (!answer) {
    process.stderr.write(
      `migrate: no Firestore emulator answers at ${emulator} (FIRESTORE_EMULATOR_HOST)\n`,
    );
    process.exit(1);
  }
}

// Integers come back as bigint so that values past 2^53 are copied exactly.
const db = new Firestore({ ...(project ? { projectId: project } : {}), useBigInt: true });
// Documents written into a collection the sync API serves publish their realtime-updates
// events (source "migrate"), and their readers follow the app's access rules (the file the
// sync service ships, or ACCESS_RULES_FILE).
const pubsub = new PubSub({
  ...(project ? { projectId: project } : {}),
  ...(process.env.PUBSUB_EMULATOR_HOST
    ? { apiEndpoint: process.env.PUBSUB_EMULATOR_HOST, emulatorMode: true }
    : {}),
});
const publisher = new Publisher(pubsub, { deadlineMs: 60_000 });
const rulesFile =
  process.env.ACCESS_RULES_FILE ??
  fileURLToPath(new URL("../../../services/sync/access-rules.json", import.meta.url));
const rules = existsSync(rulesFile) ? loadAccessRules(rulesFile) : undefined;
// A deleted source's tombstone lives as long as sync keeps its own (TOMBSTONE_RETENTION_DAYS).
const retentionDays = Number(process.env.TOMBSTONE_RETENTION_DAYS ?? 30);
if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 3_650) {
  badArguments(
    `TOMBSTONE_RETENTION_DAYS must be a whole number of days from 1 to 3650, not "${process.env.TOMBSTONE_RETENTION_DAYS}"`,
  );
}
const stop = new AbortController();
process.once("SIGINT", () => {
  process.stderr.write("\nmigrate: stopping after the pages in flight (Ctrl-C again to quit)\n");
  stop.abort();
  process.once("SIGINT", () => process.exit(130));
});

let code = 1;
try {
  const result = await runMigration(
    db,
    {
      ...args,
      transform,
      transformPath: args.transform ? resolve(baseDir, args.transform) : undefined,
      checkpointPath,
      reportPath,
      project,
      throttling: !emulator,
      maxWriteAttempts: 10,
      publisher,
      rules,
      tombstoneRetentionMs: retentionDays * 86_400_000,
      signal: stop.signal,
    },
    { progress: process.stderr, out: process.stdout },
  );
  code = result.state === "interrupted" ? 130 : result.counts.failed > 0 ? 1 : 0;
} catch (error) {
  if (error instanceof AppError && error.code === "invalid_argument") badArguments(error.message);
  process.stderr.write(`migrate: stopped: ${describeError(error)}\n`);
  if (!args.dryRun && existsSync(checkpointPath)) {
    process.stderr.write(
      `migrate: finished pages are in ${checkpointPath}; re-run with --resume\n`,
    );
  }
} finally {
  await publisher.close();
  await pubsub.close();
  await db.terminate();
}
process.exit(code);
