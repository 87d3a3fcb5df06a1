import type { Bucket } from "@google-cloud/storage";
import { withDeadline } from "@syncstack/shared";

/** Version of the backup format written in every manifest; restore refuses newer ones. */
export const formatVersion = 1;

/** The folder of a backup's objects in its bucket. */
export function backupPrefix(backupId: string): string {
  return `backups/${backupId}/`;
}

/** The object holding one collection (and its subcollections) of a backup. */
export function collectionObject(backupId: string, collection: string): string {
  return `${backupPrefix(backupId)}collections/${collection}.ndjson.gz`;
}

/** The manifest object of a backup. */
export function manifestObject(backupId: string): string {
  return `${backupPrefix(backupId)}manifest.json`;
}

/** `gs://bucket/object` as named in a backup record's `storage_path`. */
export function storagePath(bucket: string, object: string): string {
  return `gs://${bucket}/${object}`;
}

/** The backup id of an object in a backup's folder (`backups/<id>/...`); undefined otherwise. */
export function backupIdOfObject(name: string): string | undefined {
  return /^backups\/([^/]+)\/./.exec(name)?.[1];
}

/** The time a backup id made by `newBackupId` starts with; undefined for other ids. */
export function timeOfBackupId(id: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-/.exec(id);
  if (!m) return undefined;
  const time = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z`);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/**
 * Where a record's `storage_path` points: `gs://bucket/object`, or (as the seed's backup
 * function wrote it) an object name in `bucket`, the bucket of the record's config.
 */
export function locateStoragePath(
  path: unknown,
  bucket: string,
): { bucket: string; object: string } | undefined {
  if (typeof path !== "string" || path.length === 0) return undefined;
  return parseStoragePath(path) ?? { bucket, object: path.replace(/^\/+/, "") };
}

/** Splits a `gs://bucket/object` path; undefined when it is not one. */
export function parseStoragePath(path: string): { bucket: string; object: string } | undefined {
  const match = /^gs:\/\/([^/]+)\/(.+)$/.exec(path);
  return match?.[1] && match[2] ? { bucket: match[1], object: match[2] } : undefined;
}

/**
 * Deletes every object of a backup; a bucket that no longer exists holds nothing to delete.
 * Returns how many objects were deleted.
 */
export async function deleteBackupObjects(
  bucket: Bucket,
  backupId: string,
  deadlineMs: number,
): Promise<number> {
  return deleteObjectsUnder(bucket, backupPrefix(backupId), deadlineMs);
}

/**
 * Deletes the objects whose names start with `prefix` (an object name itself included);
 * a missing bucket holds nothing. Returns how many objects were deleted.
 */
export async function deleteObjectsUnder(
  bucket: Bucket,
  prefix: string,
  deadlineMs: number,
): Promise<number> {
  let deleted = 0;
  try {
    const [files] = await withDeadline("storage.backup.list", deadlineMs, () =>
      bucket.getFiles({ prefix }),
    );
    for (const file of files) {
      await withDeadline("storage.backup.delete", deadlineMs, () =>
        file.delete({ ignoreNotFound: true }),
      );
      deleted++;
    }
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
  }
  return deleted;
}
