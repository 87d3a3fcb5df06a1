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
  let deleted = 0;
  try {
    const [files] = await withDeadline("storage.backup.list", deadlineMs, () =>
      bucket.getFiles({ prefix: backupPrefix(backupId) }),
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
