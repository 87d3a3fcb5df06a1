import { parseArgs } from "node:util";
import type { BackupConfigPatch } from "./backup-config.ts";

/** How to call the backup CLI. */
export const backupUsage = `usage: ./syncstack backup [--wait] [--timeout <seconds>] [--project P]
       ./syncstack backup list [--json] [--project P]
       ./syncstack backup config [--set field=value ...] [--project P]
  (no subcommand)     request a manual backup (backup-requested) and print its id; with
                      --wait, follow its record until it ends and print id, documents, size
                      and duration (exit 1 when it failed or was skipped, 3 on --timeout)
  --timeout <s>       how long --wait waits (default 600)
  list                every backup found in backups records or in the backups bucket, newest
                      first, with status, time, documents and size; "no record" marks one
                      found only in the bucket (--json: the same as GET /v1/backups)
  config              print config/backup; --set field=value (repeatable) changes it, each
                      value validated: enabled=true|false, collections=notes,users,
                      storage_bucket=<bucket>, retention_days=<days>
  --project P         a Google Cloud project instead of the running local stack
  -h, --help          this text
Talks to the emulators at FIRESTORE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST and
STORAGE_EMULATOR_HOST when they are set, else to the project named by --project, else to the
running local stack (.syncstack/stack.json).`;

/** The CLI's parsed command line. */
export type BackupArgs = { project: string | undefined } & (
  | { command: "request"; wait: boolean; timeoutMs: number }
  | { command: "list"; json: boolean }
  | { command: "config"; patch: BackupConfigPatch | undefined }
);

/** Parses the CLI's arguments; a string is the message for a bad invocation. */
export function parseBackupArgs(argv: readonly string[]): BackupArgs | string {
  let values: Record<string, string | boolean | string[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        wait: { type: "boolean", default: false },
        timeout: { type: "string" },
        json: { type: "boolean", default: false },
        set: { type: "string", multiple: true },
        project: { type: "string" },
      },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    return (error as Error).message;
  }
  const [command = "request", ...extra] = positionals;
  if (extra.length > 0) return `unexpected argument ${extra[0]}`;
  const project = values.project as string | undefined;
  if (project !== undefined && !/^[a-z][a-z0-9-]{4,61}[a-z0-9]$/.test(project)) {
    return "--project must be a project id";
  }
  const only = (allowed: string[]) =>
    ["wait", "timeout", "json", "set"].find(
      (flag) => !allowed.includes(flag) && values[flag] !== undefined && values[flag] !== false,
    );
  if (command === "request") {
    const stray = only(["wait", "timeout"]);
    if (stray) return `--${stray} is not an option of a backup request`;
    const seconds = values.timeout === undefined ? 600 : Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) return "--timeout must be a number of seconds";
    if (values.timeout !== undefined && values.wait !== true) return "--timeout needs --wait";
    return { command, project, wait: values.wait === true, timeoutMs: seconds * 1_000 };
  }
  if (command === "list") {
    const stray = only(["json"]);
    if (stray) return `--${stray} is not an option of backup list`;
    return { command, project, json: values.json === true };
  }
  if (command === "config") {
    const stray = only(["set"]);
    if (stray) return `--${stray} is not an option of backup config`;
    const sets = (values.set as string[] | undefined) ?? [];
    if (sets.length === 0) return { command, project, patch: undefined };
    const patch: Record<string, unknown> = {};
    for (const set of sets) {
      const parsed = parseSet(set);
      if (typeof parsed === "string") return parsed;
      patch[parsed.field] = parsed.value;
    }
    return { command, project, patch: patch as BackupConfigPatch };
  }
  return `unknown subcommand ${command} (list, config, or none to request a backup)`;
}

/** One `--set field=value`, its value typed as the field wants; a string names the problem. */
function parseSet(set: string): { field: string; value: unknown } | string {
  const at = set.indexOf("=");
  if (at <= 0) return `--set ${set}: expected field=value`;
  const field = set.slice(0, at);
  const text = set.slice(at + 1);
  switch (field) {
    case "enabled":
      if (text !== "true" && text !== "false") return "--set enabled: must be true or false";
      return { field, value: text === "true" };
    case "collections":
      return { field, value: text.split(",").map((c) => c.trim()) };
    case "storage_bucket":
      return { field, value: text };
    case "retention_days": {
      const days = Number(text);
      if (text.trim() === "" || !Number.isFinite(days)) {
        return "--set retention_days: must be a number of days";
      }
      return { field, value: days };
    }
    default:
      return `--set ${field}: unknown field (enabled, collections, storage_bucket, retention_days)`;
  }
}
