// `./syncstack restore --backup <id> ...`: restores a backup into Firestore (see restore-args.ts).
import { AppError, ConfigError, createClients, loadConfig } from "@syncstack/shared";
import { findTarget, NoTargetError, stackEnvironment, type Target } from "@syncstack/shared/cli";
import { type BackupConfig, backupEnvSchema } from "./config.ts";
import { firestoreFor, publisherFor } from "./firestore-client.ts";
import { restoreBackup } from "./restore.ts";
import { parseRestoreArgs, restoreUsage, wantsHelp } from "./restore-args.ts";
import { restoreAccessRules } from "./rules-file.ts";

if (wantsHelp(process.argv.slice(2))) {
  process.stdout.write(`${restoreUsage}\n`);
  process.exit(0);
}
const args = parseRestoreArgs(process.argv.slice(2));
if (typeof args === "string") {
  process.stderr.write(`restore: ${args}\n${restoreUsage}\n`);
  process.exit(2);
}
let target: Target;
try {
  target = await findTarget({ project: args.project, uses: ["firestore", "storage", "pubsub"] });
} catch (error) {
  if (!(error instanceof NoTargetError)) throw error;
  process.stderr.write(`restore: ${error.message}\n`);
  process.exit(2);
}
if (target.kind === "stack") Object.assign(process.env, stackEnvironment(target.stack));
if (target.kind === "cloud") process.env.GOOGLE_CLOUD_PROJECT ??= target.projectId;
else process.env.METADATA_SERVER_DETECTION = "none";
let config: BackupConfig;
try {
  config = loadConfig(backupEnvSchema);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`restore: ${error.message}\n`);
  process.exit(2);
}
const clients = createClients(config);
const targetDb = args.project ? firestoreFor(config, args.project) : clients.firestore;
// Events go to the topics of the project restored into, where its consumers are.
const events = publisherFor(config, args.project ?? config.GOOGLE_CLOUD_PROJECT);
try {
  const report = await restoreBackup({
    sourceDb: clients.firestore,
    targetDb,
    storage: clients.storage,
    backupId: args.backupId,
    bucket: args.bucket,
    collections: args.collections,
    prefix: args.prefix,
    dryRun: args.dryRun,
    undelete: args.undelete,
    publisher: events.publisher,
    rules: restoreAccessRules(config.ACCESS_RULES_FILE),
    throttle: args.throttle,
    deadlineMs: config.DEADLINE_MS,
  });
  const verb = report.dry_run ? "would restore" : "restored";
  const deleted = report.undelete
    ? "brought back although deleted since"
    : "deleted since, kept deleted";
  for (const c of report.collections) {
    process.stdout.write(
      `${verb} ${c.documents} documents of ${c.name} into ${args.project ?? config.GOOGLE_CLOUD_PROJECT}/${c.target}: ` +
        `${c.new} new, ${c.changed} changed, ${c.unchanged} unchanged, ` +
        `${report.undelete ? c.undeleted : c.deleted_since} ${deleted}\n`,
    );
  }
  if (report.events_pending > 0) {
    process.stdout.write(
      `${report.events_pending} realtime-updates events could not be published now; they wait in _outbox for the sync service's sweeper\n`,
    );
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exitCode = 0;
} catch (error) {
  process.stderr.write(
    `restore: ${error instanceof AppError ? error.message : (error as Error).stack}\n`,
  );
  process.exitCode = 1;
} finally {
  await events.close();
  if (targetDb !== clients.firestore) await targetDb.terminate();
  await clients.firestore.terminate();
  await clients.pubsub.close();
}
