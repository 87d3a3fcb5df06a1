import { type Firestore, Timestamp } from "@google-cloud/firestore";
import type { Storage } from "@google-cloud/storage";
import { type Logger, withDeadline } from "@syncstack/shared";
import { deleteBackupObjects } from "./backup-objects.ts";
import { backupsCollection } from "./backup-records.ts";

/** What applying retention removed. */
export interface RetentionResult {
  deleted: string[];
}

/**
 * Deletes backups created more than `retentionDays` ago, except `keep` (the one just made):
 * first their objects, in the bucket each record's own config names (falling back to
 * `defaultBucket`), then the record, so a record never outlives knowledge of its objects.
 */
export async function applyRetention(options: {
  db: Firestore;
  storage: Storage;
  retentionDays: number;
  defaultBucket: string;
  keep: string;
  now: Date;
  deadlineMs: number;
  logger: Logger;
}): Promise<RetentionResult> {
  const { db, storage, deadlineMs } = options;
  const cutoff = Timestamp.fromMillis(options.now.getTime() - options.retentionDays * 86_400_000);
  const old = await withDeadline("firestore.backups.expired", deadlineMs, () =>
    db.collection(backupsCollection).where("created_at", "<", cutoff).get(),
  );
  const deleted: string[] = [];
  for (const record of old.docs) {
    if (record.id === options.keep) continue;
    const bucketName =
      (record.get("config.storage_bucket") as string | undefined) ?? options.defaultBucket;
    const objects = await deleteBackupObjects(storage.bucket(bucketName), record.id, deadlineMs);
    await withDeadline("firestore.backups.delete", deadlineMs, () => record.ref.delete());
    options.logger.info("expired backup deleted", {
      backup: record.id,
      objects,
      bucket: bucketName,
    });
    deleted.push(record.id);
  }
  return { deleted };
}
