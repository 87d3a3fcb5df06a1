import type { Firestore } from "@google-cloud/firestore";
import { AppError, defaultBucketNames, withDeadline } from "@syncstack/shared";
import { z } from "zod";

/** The document that configures backups (docs/contract.md). */
export const backupConfigPath = "config/backup";

const collectionId = z
  .string()
  .min(1)
  .max(1_500)
  .refine((id) => !id.includes("/") && id !== "." && id !== ".." && !/^__.*__$/.test(id), {
    message: "must be a collection id (no /, not . or .., not __...__)",
  });

/** `config/backup` as a backup runs it; the bucket defaults to `<project>-backups`. */
export function backupSettingsSchema(projectId: string) {
  return z.object({
    enabled: z.boolean(),
    collections: z.array(collectionId).min(1),
    storage_bucket: z.string().min(3).default(defaultBucketNames(projectId).backups),
    retention_days: z.number().positive().default(30),
  });
}
export type BackupSettings = z.output<ReturnType<typeof backupSettingsSchema>>;

/** What `config/backup` says: run with these settings, skip, or refuse as invalid. */
export type BackupConfigState =
  | { state: "enabled"; settings: BackupSettings }
  | { state: "skip"; reason: string }
  | { state: "invalid"; reason: string };

/** Reads and validates `config/backup`. */
export async function readBackupConfig(
  db: Firestore,
  projectId: string,
  deadlineMs: number,
): Promise<BackupConfigState> {
  const snapshot = await withDeadline("firestore.config.backup.get", deadlineMs, () =>
    db.doc(backupConfigPath).get(),
  );
  if (!snapshot.exists) return { state: "skip", reason: `${backupConfigPath} does not exist` };
  if (snapshot.get("enabled") === false) {
    return { state: "skip", reason: `${backupConfigPath} has enabled: false` };
  }
  const parsed = backupSettingsSchema(projectId).safeParse(snapshot.data());
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join(".") || "(document)"}: ${i.message}`,
    );
    return { state: "invalid", reason: `${backupConfigPath} is invalid: ${problems.join("; ")}` };
  }
  return { state: "enabled", settings: parsed.data };
}

/** A Cloud Storage bucket name (lowercase letters, digits, dots, dashes and underscores). */
export const bucketNamePattern = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** The fields an admin may change in `config/backup`; an unknown one is refused naming it. */
export const backupConfigPatchSchema = z.strictObject({
  enabled: z.boolean().optional(),
  collections: z.array(collectionId).min(1).optional(),
  storage_bucket: z.string().regex(bucketNamePattern, "must be a bucket name").optional(),
  retention_days: z.number().positive().optional(),
});
export type BackupConfigPatch = z.output<typeof backupConfigPatchSchema>;

/** `config/backup` as an admin reads it: the stored fields with defaults, and whether it runs. */
export interface BackupConfigView {
  enabled: boolean;
  collections: string[];
  storage_bucket: string;
  retention_days: number;
  state: BackupConfigState["state"];
  /** Why backups skip or fail with this config; null when they run. */
  problem: string | null;
}

/** Reads `config/backup` for an admin; undefined when it does not exist. */
export async function viewBackupConfig(
  db: Firestore,
  projectId: string,
  deadlineMs: number,
): Promise<BackupConfigView | undefined> {
  const snapshot = await withDeadline("firestore.config.backup.get", deadlineMs, () =>
    db.doc(backupConfigPath).get(),
  );
  if (!snapshot.exists) return undefined;
  return toView(snapshot.data() ?? {}, projectId);
}

/**
 * Changes `config/backup` (creating it when missing): the patch is merged with what is stored
 * and the result validated as a backup would read it, so an invalid config is never written;
 * the error names each field at fault. Answers the stored config.
 */
export async function updateBackupConfig(
  db: Firestore,
  projectId: string,
  patch: BackupConfigPatch,
  deadlineMs: number,
): Promise<BackupConfigView> {
  const ref = db.doc(backupConfigPath);
  const stored = await withDeadline("firestore.config.backup.update", deadlineMs, () =>
    db.runTransaction(async (tx) => {
      const current = (await tx.get(ref)).data() ?? {};
      const merged = { ...current, ...patch };
      const parsed = backupSettingsSchema(projectId).safeParse(merged);
      if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) =>
          issue.code === "invalid_type" && issue.input === undefined
            ? `${issue.path.join(".")} is required (${backupConfigPath} has none yet)`
            : `${issue.path.join(".") || "(document)"}: ${issue.message}`,
        );
        throw new AppError("invalid_argument", `${backupConfigPath}: ${problems.join("; ")}`);
      }
      const next = { ...current, ...parsed.data };
      tx.set(ref, next);
      return next;
    }),
  );
  return toView(stored, projectId);
}

function toView(data: Record<string, unknown>, projectId: string): BackupConfigView {
  const parsed = backupSettingsSchema(projectId).safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join(".") || "(document)"}: ${i.message}`);
  const defaults = backupSettingsSchema(projectId).shape;
  return {
    enabled: data.enabled === true,
    collections: Array.isArray(data.collections) ? (data.collections as string[]) : [],
    storage_bucket:
      typeof data.storage_bucket === "string"
        ? data.storage_bucket
        : defaults.storage_bucket.parse(undefined),
    retention_days:
      typeof data.retention_days === "number"
        ? data.retention_days
        : defaults.retention_days.parse(undefined),
    state: data.enabled === false ? "skip" : parsed.success ? "enabled" : "invalid",
    problem:
      data.enabled === false
        ? `${backupConfigPath} has enabled: false`
        : parsed.success
          ? null
          : `${backupConfigPath} is invalid: ${problems.join("; ")}`,
  };
}
