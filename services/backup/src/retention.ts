import { type Firestore, Timestamp } from "@google-cloud/firestore";
import type { Bucket, File, Storage } from "@google-cloud/storage";
import { type Logger, withDeadline } from "@syncstack/shared";
import {
  backupIdOfObject,
  backupPrefix,
  deleteObjectsUnder,
  timeOfBackupId,
} from "./backup-objects.ts";
import { backupsCollection } from "./backup-records.ts";
import { recordBucket, recordedLocation } from "./find-backup.ts";
import { projectOf } from "./firestore-client.ts";

/** What applying retention removed: expired records (with their objects) and orphans' ids. */
export interface RetentionResult {
  deleted: string[];
  orphans: string[];
}

interface RetentionOptions {
  db: Firestore;
  storage: Storage;
  retentionDays: number;
  /** The bucket backups go to now: its objects without a record are swept. */
  defaultBucket: string;
  keep: string;
  now: Date;
  deadlineMs: number;
  logger: Logger;
}

/**
 * Deletes backups created more than `retentionDays` ago, except `keep` (the one just made):
 * first their objects (what `storage_path` names, seed-format records' bare object names
 * included, and the backup's own `backups/<id>/` folder, in the bucket the record's config
 * names), then the record, so a record never outlives knowledge of its objects. Then sweeps
 * `defaultBucket` for backup folders no record knows that are past the retention too (a
 * backup whose record was lost, or a crash before it was written), so no object outlives its
 * record either.
 */
export async function applyRetention(options: RetentionOptions): Promise<RetentionResult> {
  const { db, storage, deadlineMs } = options;
  const cutoffMs = options.now.getTime() - options.retentionDays * 86_400_000;
  const old = await withDeadline("firestore.backups.expired", deadlineMs, () =>
    db.collection(backupsCollection).where("created_at", "<", Timestamp.fromMillis(cutoffMs)).get(),
  );
  const deleted: string[] = [];
  for (const record of old.docs) {
    if (record.id === options.keep) continue;
    const bucketName = recordBucket(record, projectOf(db));
    let objects = await deleteObjectsUnder(
      storage.bucket(bucketName),
      backupPrefix(record.id),
      deadlineMs,
    );
    const named = recordedLocation(record, projectOf(db));
    if (named) objects += await deleteNamed(storage.bucket(named.bucket), named.object, deadlineMs);
    await withDeadline("firestore.backups.delete", deadlineMs, () => record.ref.delete());
    options.logger.info("expired backup deleted", {
      backup: record.id,
      objects,
      bucket: bucketName,
    });
    deleted.push(record.id);
  }
  const orphans = await sweepOrphans(options, cutoffMs);
  return { deleted, orphans };
}

/** Deletes an object a record names and, if it names a folder, the objects under it. */
async function deleteNamed(bucket: Bucket, object: string, deadlineMs: number): Promise<number> {
  const folder = object.endsWith("/") ? object : `${object}/`;
  let deleted = await deleteObjectsUnder(bucket, folder, deadlineMs);
  if (!object.endsWith("/")) {
    try {
      await withDeadline("storage.backup.delete", deadlineMs, () =>
        bucket.file(object).delete({ ignoreNotFound: true }),
      );
      deleted++;
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
    }
  }
  return deleted;
}

/**
 * Deletes the `backups/<id>/` folders of the current bucket that no record knows (by id or
 * by a `storage_path` inside them) and that are older than the cutoff: by the time the id
 * starts with, else by their newest object.
 */
async function sweepOrphans(options: RetentionOptions, cutoffMs: number): Promise<string[]> {
  const { db, storage, deadlineMs } = options;
  const records = await withDeadline("firestore.backups.list", deadlineMs, () =>
    db.collection(backupsCollection).select("storage_path", "config.storage_bucket").get(),
  );
  const known = new Set(records.docs.map((r) => r.id));
  for (const record of records.docs) {
    const named = recordedLocation(record, projectOf(db));
    const id = named && named.bucket === options.defaultBucket && backupIdOfObject(named.object);
    if (id) known.add(id);
  }
  const bucket = storage.bucket(options.defaultBucket);
  let files: File[];
  try {
    [files] = await withDeadline("storage.backup.list", deadlineMs, () =>
      bucket.getFiles({ prefix: "backups/" }),
    );
  } catch (error) {
    if ((error as { code?: number }).code === 404) return [];
    throw error;
  }
  const newest = new Map<string, number>();
  for (const file of files) {
    const id = backupIdOfObject(file.name);
    if (!id || known.has(id) || id === options.keep) continue;
    const created = Date.parse(String(file.metadata.timeCreated ?? ""));
    newest.set(id, Math.max(newest.get(id) ?? 0, Number.isNaN(created) ? Date.now() : created));
  }
  const swept: string[] = [];
  for (const [id, newestObject] of newest) {
    const age = timeOfBackupId(id)?.getTime() ?? newestObject;
    if (age >= cutoffMs) continue;
    const objects = await deleteObjectsUnder(bucket, backupPrefix(id), deadlineMs);
    options.logger.warn("expired objects of a backup without a record deleted", {
      backup: id,
      objects,
      bucket: options.defaultBucket,
    });
    swept.push(id);
  }
  return swept;
}
