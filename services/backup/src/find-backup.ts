import type { DocumentSnapshot, Firestore } from "@google-cloud/firestore";
import type { Storage } from "@google-cloud/storage";
import { AppError, defaultBucketNames, withDeadline } from "@syncstack/shared";
import { backupConfigPath } from "./backup-config.ts";
import { locateStoragePath, manifestObject } from "./backup-objects.ts";
import { backupsCollection } from "./backup-records.ts";
import { projectOf } from "./firestore-client.ts";

/** Where a backup's manifest is, and its record when Firestore still has one. */
export interface BackupLocation {
  bucket: string;
  manifest: string;
  record: DocumentSnapshot | undefined;
}

/**
 * Finds a backup's manifest without needing its record: in `bucket` when given; else where
 * the record's `storage_path` says; else in the bucket `config/backup` names, then in the
 * project's default backups bucket (`<project>-backups`), at `backups/<id>/manifest.json`.
 * A record that is not `completed` refuses the backup; no record and no manifest is not_found.
 */
export async function findBackup(options: {
  db: Firestore;
  storage: Storage;
  backupId: string;
  bucket?: string;
  deadlineMs: number;
}): Promise<BackupLocation> {
  const { db, backupId, deadlineMs } = options;
  const record = await withDeadline("firestore.backups.get", deadlineMs, () =>
    db.collection(backupsCollection).doc(backupId).get(),
  );
  const known = record.exists ? record : undefined;
  if (known && known.get("status") !== "completed") {
    throw new AppError(
      "conflict",
      `backup ${backupId} is ${String(known.get("status"))}, not completed`,
    );
  }
  const candidates: { bucket: string; manifest: string }[] = [];
  const own = { manifest: manifestObject(backupId) };
  if (options.bucket) candidates.push({ bucket: options.bucket, ...own });
  else {
    const recorded = known ? recordedLocation(known, projectOf(db)) : undefined;
    if (recorded) candidates.push({ bucket: recorded.bucket, manifest: recorded.object });
    for (const bucket of await configuredBuckets(db, deadlineMs)) {
      candidates.push({ bucket, ...own });
    }
  }
  for (const candidate of candidates) {
    if (await exists(options.storage, candidate.bucket, candidate.manifest, deadlineMs)) {
      return { ...candidate, record: known };
    }
  }
  const where = [...new Set(candidates.map((c) => `gs://${c.bucket}/${c.manifest}`))].join(", ");
  if (known) {
    throw new AppError(
      "unprocessable",
      `backup ${backupId} is damaged: its manifest is missing (looked at ${where})`,
    );
  }
  throw new AppError(
    "not_found",
    `there is no backup ${backupId}: no backups/${backupId} record and no manifest at ${where}`,
  );
}

/** The bucket and object a record's `storage_path` names (its config's bucket for a bare name). */
export function recordedLocation(
  record: DocumentSnapshot,
  projectId: string,
): { bucket: string; object: string } | undefined {
  return locateStoragePath(record.get("storage_path"), recordBucket(record, projectId));
}

/** The bucket a record's config names, else the project's default backups bucket. */
export function recordBucket(record: DocumentSnapshot, projectId: string): string {
  const named = record.get("config.storage_bucket");
  return typeof named === "string" && named.length > 0
    ? named
    : defaultBucketNames(projectId).backups;
}

/** The bucket `config/backup` names (when it is readable) and the project's default one. */
export async function configuredBuckets(db: Firestore, deadlineMs: number): Promise<string[]> {
  const config = await withDeadline("firestore.config.backup.get", deadlineMs, () =>
    db.doc(backupConfigPath).get(),
  );
  const named = config.get("storage_bucket");
  const buckets = typeof named === "string" && named.length > 0 ? [named] : [];
  return [...new Set([...buckets, defaultBucketNames(projectOf(db)).backups])];
}

async function exists(
  storage: Storage,
  bucket: string,
  object: string,
  deadlineMs: number,
): Promise<boolean> {
  try {
    const [found] = await withDeadline("storage.backup.exists", deadlineMs, () =>
      storage.bucket(bucket).file(object).exists(),
    );
    return found;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  }
}
