// `./syncstack backup [list | config]`: requests a backup (and follows it), lists backups,
// reads and changes config/backup (see backup-args.ts).
import {
  AppError,
  ConfigError,
  createClients,
  describeIssues,
  loadConfig,
  Publisher,
} from "@syncstack/shared";
import { findTarget, NoTargetError, stackEnvironment, type Target } from "@syncstack/shared/cli";
import { backupUsage, parseBackupArgs } from "./backup-args.ts";
import { backupConfigPatchSchema, updateBackupConfig, viewBackupConfig } from "./backup-config.ts";
import { type BackupConfig, backupEnvSchema } from "./config.ts";
import { type BackupSummary, describeBackup, listBackups } from "./list-backups.ts";
import { requestBackup, waitForBackup } from "./request-backup.ts";

const argv = process.argv.slice(2);
if (argv.includes("--help") || argv.includes("-h")) {
  process.stdout.write(`${backupUsage}\n`);
  process.exit(0);
}
const args = parseBackupArgs(argv);
const usage = (message: string): never => {
  process.stderr.write(`backup: ${message}\n\n${backupUsage}\n`);
  process.exit(2);
};
if (typeof args === "string") usage(args);
const parsed = args as Exclude<typeof args, string>;
let patch = parsed.command === "config" ? parsed.patch : undefined;
if (patch) {
  const checked = backupConfigPatchSchema.safeParse(patch);
  if (!checked.success) usage(`config/backup: ${describeIssues(checked.error)}`);
  patch = checked.data;
}

let target: Target;
try {
  target = await findTarget({ project: parsed.project, uses: ["firestore", "storage", "pubsub"] });
} catch (error) {
  if (!(error instanceof NoTargetError)) throw error;
  usage(error.message);
  throw error;
}
if (target.kind === "stack") Object.assign(process.env, stackEnvironment(target.stack));
if (target.kind === "cloud") process.env.GOOGLE_CLOUD_PROJECT = target.projectId;
else process.env.METADATA_SERVER_DETECTION = "none";
let config: BackupConfig;
try {
  config = loadConfig(backupEnvSchema);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  usage(error.message);
  throw error;
}
const clients = createClients(config);
const db = clients.firestore;
const deadlineMs = config.DEADLINE_MS;
const projectId = config.GOOGLE_CLOUD_PROJECT;
const out = (line: string) => process.stdout.write(`${line}\n`);

try {
  if (parsed.command === "list") {
    const backups = await listBackups({ db, storage: clients.storage, deadlineMs });
    if (parsed.json) out(JSON.stringify({ backups }, null, 2));
    else if (backups.length === 0) out("no backups");
    else for (const backup of backups) out(summaryLine(backup));
  } else if (parsed.command === "config") {
    const view = patch
      ? await updateBackupConfig(db, projectId, patch, deadlineMs)
      : await viewBackupConfig(db, projectId, deadlineMs);
    if (!view) {
      throw new AppError(
        "not_found",
        "config/backup does not exist: create it with --set enabled=true --set collections=a,b",
      );
    }
    out(JSON.stringify(view, null, 2));
  } else {
    const id = await requestBackup(new Publisher(clients.pubsub, { deadlineMs }));
    out(`requested backup ${id}`);
    if (parsed.wait) process.exitCode = await follow(id, parsed.timeoutMs);
  }
} catch (error) {
  process.stderr.write(
    `backup: ${error instanceof AppError ? error.message : (error as Error).stack}\n`,
  );
  process.exitCode = 1;
} finally {
  await db.terminate();
  await clients.pubsub.close();
}

/** Follows a requested backup to its end; the exit code: 0 completed, 1 failed or skipped, 3 timed out. */
async function follow(id: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  const ended = await waitForBackup({ db, id, timeoutMs, deadlineMs });
  if (!ended) {
    out(
      `backup ${id} has not ended after ${Math.round(timeoutMs / 1_000)} s (see ./syncstack backup list)`,
    );
    return 3;
  }
  const seconds = (
    ((ended.ended_at?.getTime() ?? Date.now()) - (ended.created_at?.getTime() ?? started)) /
    1_000
  ).toFixed(1);
  if (ended.status !== "completed") {
    out(`backup ${id} ${ended.status}: ${ended.reason ?? "no reason recorded"}`);
    return 1;
  }
  const summary = await describeBackup({ db, storage: clients.storage, backupId: id, deadlineMs });
  out(
    `backup ${id} completed: ${ended.document_count ?? "?"} documents, ${summary?.bytes ?? 0} bytes in ${summary?.objects ?? 0} objects, ${seconds} s`,
  );
  return 0;
}

function summaryLine(backup: BackupSummary): string {
  const counts = backup.collections.map((c) => `${c.name} ${c.documents}`).join(", ");
  return [
    backup.id,
    backup.status,
    backup.created_at ?? "-",
    `${backup.document_count ?? "-"} documents${counts ? ` (${counts})` : ""}`,
    `${backup.bytes} bytes`,
    backup.has_record ? "" : "no record",
  ]
    .filter((part) => part.length > 0)
    .join("  ");
}
