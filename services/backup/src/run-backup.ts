import { type Firestore, Timestamp } from "@google-cloud/firestore";
import type { Storage } from "@google-cloud/storage";
import {
  AppError,
  type Clock,
  describeError,
  type Logger,
  type Publisher,
  systemClock,
  withDeadline,
} from "@syncstack/shared";
import { type BackupSettings, readBackupConfig } from "./backup-config.ts";
import {
  collectionObject,
  deleteBackupObjects,
  manifestObject,
  storagePath,
} from "./backup-objects.ts";
import { BackupRecords, backupsCollection, newBackupId } from "./backup-records.ts";
import type { BackupConfig } from "./config.ts";
import { type ExportedCollection, exportCollection } from "./export-collection.ts";
import { acquireLease, releaseLease, renewLease } from "./lease.ts";
import { buildManifest } from "./manifest.ts";
import { applyRetention } from "./retention.ts";

/** What a backup needs: clients (the export one reads with `useBigInt`), config and logger. */
export interface BackupDeps {
  db: Firestore;
  exportDb: Firestore;
  storage: Storage;
  publisher: Publisher;
  logger: Logger;
  config: BackupConfig;
  /** Called after each collection's object is written (tests fail a backup midway here). */
  afterCollection?: (collection: string) => Promise<void>;
  /** Decides the lease's expiry, and the backup's id and retention unless a date is given. */
  now?: Clock;
}

/** How a request ended: the record's id and status. */
export interface BackupOutcome {
  id: string;
  status: "completed" | "failed" | "skipped";
  reason?: string;
  documentCount?: number;
}

/**
 * Handles one backup request: reads `config/backup`, takes the lease (or records the
 * request as skipped), exports, and records the outcome. A failed backup is an outcome,
 * returned; only a failure to record it throws.
 */
export async function runBackup(
  deps: BackupDeps,
  type: "automated" | "manual",
  request: { id?: string | undefined; requestedAt?: string | undefined; now?: Date } = {},
): Promise<BackupOutcome> {
  const now = request.now ?? new Date((deps.now ?? systemClock)());
  const id = request.id ?? newBackupId(now);
  const records = new BackupRecords(deps.db, deps.publisher, deps.config.DEADLINE_MS, deps.logger);
  try {
    if (request.id) {
      // A redelivered request whose backup already has a record was handled: report that one.
      const existing = await withDeadline("firestore.backups.get", deps.config.DEADLINE_MS, () =>
        deps.db.collection(backupsCollection).doc(id).get(),
      );
      if (existing.exists) {
        const status = existing.get("status") as BackupOutcome["status"];
        deps.logger.info("backup request already handled", { backup: id, status });
        return { id, status, reason: "already handled" };
      }
    }
    return await handle(deps, records, id, type, now);
  } finally {
    await records.settled();
  }
}

async function handle(
  deps: BackupDeps,
  records: BackupRecords,
  id: string,
  type: "automated" | "manual",
  now: Date,
): Promise<BackupOutcome> {
  const { db, config, logger } = deps;
  const read = await readBackupConfig(db, config.GOOGLE_CLOUD_PROJECT, config.DEADLINE_MS);
  if (read.state !== "enabled") {
    const status = read.state === "skip" ? "skipped" : "failed";
    await records.create(id, { status, type, config: null, reason: read.reason });
    return { id, status, reason: read.reason };
  }
  const settings = read.settings;
  const grant = await acquireLease(db, id, config.BACKUP_LEASE_MS, config.DEADLINE_MS, deps.now);
  if (!grant.acquired) {
    const reason = `backup ${grant.holder} is running (lease until ${grant.expiresAt.toDate().toISOString()})`;
    await records.create(id, { status: "skipped", type, config: settings, reason });
    return { id, status: "skipped", reason };
  }
  try {
    if (grant.expired) await abandon(deps, records, grant.expired);
    const outcome = await backUp(deps, records, id, type, settings);
    if (outcome.status === "completed") {
      await applyRetention({
        db,
        storage: deps.storage,
        retentionDays: settings.retention_days,
        defaultBucket: settings.storage_bucket,
        keep: id,
        now,
        deadlineMs: config.DEADLINE_MS,
        logger,
      }).catch((error: unknown) => logger.error("applying retention failed", { error }));
    }
    return outcome;
  } finally {
    await releaseLease(db, id, config.DEADLINE_MS).catch((error: unknown) =>
      logger.warn("releasing the backup lease failed; it expires on its own", { error }),
    );
  }
}

async function backUp(
  deps: BackupDeps,
  records: BackupRecords,
  id: string,
  type: string,
  settings: BackupSettings,
): Promise<BackupOutcome> {
  const { config, logger } = deps;
  const bucket = deps.storage.bucket(settings.storage_bucket);
  const readTime = await records.create(id, { status: "in_progress", type, config: settings });
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new AppError(
          "deadline_exceeded",
          `the backup took longer than ${config.BACKUP_DEADLINE_MS} ms`,
        ),
      ),
    config.BACKUP_DEADLINE_MS,
  );
  const renewal = setInterval(() => {
    renewLease(deps.db, id, config.BACKUP_LEASE_MS, config.DEADLINE_MS, deps.now).then(
      (held) => held || controller.abort(new Error("the backup lease was taken over")),
      (error: unknown) => logger.warn("renewing the backup lease failed", { error }),
    );
  }, config.BACKUP_LEASE_MS / 3);
  try {
    const exported: ExportedCollection[] = [];
    for (const collection of settings.collections) {
      controller.signal.throwIfAborted();
      exported.push(
        await exportCollection({
          db: deps.exportDb,
          bucket,
          collection,
          object: collectionObject(id, collection),
          readTime,
          pageSize: config.BACKUP_PAGE_SIZE,
          pageDeadlineMs: Math.max(config.DEADLINE_MS, 30_000),
          signal: controller.signal,
        }),
      );
      await deps.afterCollection?.(collection);
    }
    controller.signal.throwIfAborted();
    const manifest = buildManifest(id, config.GOOGLE_CLOUD_PROJECT, readTime, exported);
    const manifestName = manifestObject(id);
    await withDeadline("storage.backup.manifest", config.DEADLINE_MS, () =>
      bucket.file(manifestName).save(JSON.stringify(manifest, null, 2), {
        resumable: false,
        contentType: "application/json",
      }),
    );
    const path = storagePath(settings.storage_bucket, manifestName);
    await records.finish(id, {
      status: "completed",
      completed_at: Timestamp.now(),
      storage_path: path,
      document_count: manifest.document_count,
    });
    logger.info("backup completed", { backup: id, documents: manifest.document_count });
    return { id, status: "completed", documentCount: manifest.document_count };
  } catch (error) {
    const reason = error instanceof AppError ? error.message : describeError(error);
    logger.error("backup failed", { backup: id, error });
    const removed = await deleteBackupObjects(bucket, id, config.DEADLINE_MS).catch(
      (cleanup: unknown) => {
        logger.error("removing a failed backup's objects failed", { backup: id, error: cleanup });
        return undefined;
      },
    );
    await records.finish(id, {
      status: "failed",
      failed_at: Timestamp.now(),
      reason:
        removed === undefined ? `${reason} (its partial objects could not be removed)` : reason,
    });
    return { id, status: "failed", reason };
  } finally {
    clearTimeout(timer);
    clearInterval(renewal);
  }
}

/** Marks a backup whose holder died (its lease expired) failed and removes its objects. */
async function abandon(deps: BackupDeps, records: BackupRecords, id: string): Promise<void> {
  const ref = deps.db.collection(backupsCollection).doc(id);
  const record = await withDeadline("firestore.backups.get", deps.config.DEADLINE_MS, () =>
    ref.get(),
  );
  if (record.get("status") !== "in_progress") return;
  const bucketName = record.get("config.storage_bucket") as string | undefined;
  if (bucketName)
    await deleteBackupObjects(deps.storage.bucket(bucketName), id, deps.config.DEADLINE_MS);
  await records.finish(id, {
    status: "failed",
    failed_at: Timestamp.now(),
    reason: "abandoned: its lease expired before it finished",
  });
  deps.logger.warn("abandoned backup marked failed", { backup: id });
}
