import { parseArgs } from "node:util";
import { bucketNamePattern } from "./backup-config.ts";

/** How to call the restore CLI. */
export const restoreUsage = `usage: ./syncstack restore --backup <id> [--collections a,b] [--prefix p_] [--project P] [--bucket B] [--dry-run] [--undelete] [--no-throttle]
  --backup <id>       the backup to restore: its manifest backups/<id>/manifest.json in the
                      backups bucket (a backups/{id} record is not needed; if there is one,
                      it must be completed)
  --collections a,b   root collections to restore (default: all in the backup)
  --prefix p_         restore notes into p_notes (subcollections follow their parents)
  --project P         the Google Cloud project to restore into (the backup is read from
                      $GOOGLE_CLOUD_PROJECT, default P); with FIRESTORE_EMULATOR_HOST set,
                      project P on that emulator
  --bucket B          the bucket holding the backup (default: where its record says, else
                      the bucket config/backup names, else <project>-backups)
  --dry-run           verify every object and say what would change per collection (new,
                      changed, unchanged, deleted since the backup), write nothing
  --undelete          bring back documents deleted since the backup (else they stay deleted)
  --no-throttle       BulkWriter without its 500/50/5 ramp-up (emulators, bulk loads)
  -h, --help          this text
Talks to the emulators at FIRESTORE_EMULATOR_HOST and STORAGE_EMULATOR_HOST when they are
set, else to the Google Cloud project named by --project, else to the running local stack
(.syncstack/stack.json); with none of them it stops and says so.`;

/** The CLI's parsed flags. */
export interface RestoreArgs {
  backupId: string;
  collections: string[] | undefined;
  prefix: string | undefined;
  project: string | undefined;
  bucket: string | undefined;
  dryRun: boolean;
  undelete: boolean;
  throttle: boolean;
}

/** True when the command line asks for the usage. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/** Parses the CLI's arguments; a string is the message for a bad invocation. */
export function parseRestoreArgs(argv: readonly string[]): RestoreArgs | string {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        backup: { type: "string" },
        collections: { type: "string" },
        prefix: { type: "string" },
        project: { type: "string" },
        bucket: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        undelete: { type: "boolean", default: false },
        "no-throttle": { type: "boolean", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return (error as Error).message;
  }
  const backupId = values.backup;
  if (typeof backupId !== "string" || backupId.length === 0 || backupId.includes("/")) {
    return "--backup <id> is required (a backup id, no /)";
  }
  const collections =
    typeof values.collections === "string"
      ? values.collections.split(",").map((c) => c.trim())
      : undefined;
  if (collections?.some((c) => c.length === 0 || c.includes("/"))) {
    return "--collections must be comma-separated collection ids";
  }
  const prefix = values.prefix as string | undefined;
  if (prefix?.includes("/")) return "--prefix must not contain /";
  const project = values.project as string | undefined;
  if (project !== undefined && !/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/.test(project)) {
    return "--project must be a project id";
  }
  const bucket = values.bucket as string | undefined;
  if (bucket !== undefined && !bucketNamePattern.test(bucket))
    return "--bucket must be a bucket name";
  return {
    backupId,
    collections,
    prefix,
    project,
    bucket,
    dryRun: values["dry-run"] === true,
    undelete: values.undelete === true,
    throttle: values["no-throttle"] !== true,
  };
}
