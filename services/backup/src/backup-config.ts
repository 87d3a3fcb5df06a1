import type { Firestore } from "@google-cloud/firestore";
import { defaultBucketNames, withDeadline } from "@syncstack/shared";
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
