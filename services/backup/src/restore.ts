import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { PassThrough } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Firestore } from "@google-cloud/firestore";
import type { Bucket, Storage } from "@google-cloud/storage";
import {
  type AccessRules,
  AppError,
  type Publisher,
  type ToolItem,
  type ToolOutcome,
  ToolWriter,
  toolSources,
  withDeadline,
} from "@syncstack/shared";
import { decodeFields, type EncodedFields } from "@syncstack/shared/firestore-codec";
import { findBackup } from "./find-backup.ts";
import { type Manifest, parseManifest } from "./manifest.ts";
import { verifyBackup } from "./verify-backup.ts";

/** What to restore and where. */
export interface RestoreOptions {
  /**
   * The database whose `backups/{id}` record and `config/backup` say where the backup is, if
   * they still exist; the manifest in the bucket is what counts (see findBackup).
   */
  sourceDb: Firestore;
  /** The backups bucket to read the backup from, when not the one found from the database. */
  bucket?: string;
  /** The database written to (another project's, for `--project`). */
  targetDb: Firestore;
  storage: Storage;
  backupId: string;
  /** Root collections to restore; all of the backup's when absent. */
  collections?: readonly string[];
  /** Prepended to each root collection id (`p_` restores `notes` into `p_notes`). */
  prefix?: string;
  dryRun?: boolean;
  /** Bring back documents deleted in the target since the backup (else they stay deleted). */
  undelete?: boolean;
  /**
   * Publishes the restored documents' `realtime-updates` events (source "backup-restore")
   * right after their commit; what it does not publish waits in `_outbox` for sync's sweeper.
   */
  publisher?: Publisher;
  /** The app's access rules (sync's): a restored document's readers follow its members. */
  rules?: AccessRules | undefined;
  /** The 500/50/5 ramp-up, as production wants; off for an emulator or a bulk load. */
  throttle?: boolean;
  deadlineMs: number;
}

/**
 * What a restore did to one collection, or would do on a dry run: of the backup's
 * `documents`, how many are `new` to the target, `changed` (written with a new version),
 * `unchanged` (the target holds the same content: not written), `deleted_since` (deleted in
 * the target after the backup: kept deleted) and `undeleted` (such ones brought back by
 * `undelete`).
 */
export interface CollectionReport {
  name: string;
  target: string;
  documents: number;
  new: number;
  changed: number;
  unchanged: number;
  deleted_since: number;
  undeleted: number;
}

/** What a restore did, or would do on a dry run. */
export interface RestoreReport {
  backup_id: string;
  dry_run: boolean;
  undelete: boolean;
  read_time: string;
  collections: CollectionReport[];
  documents: number;
  /** Events not published by the restore, left in `_outbox` for the sync service's sweeper. */
  events_pending: number;
}

/** Restores a completed backup after verifying every object's checksum. */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreReport> {
  const { bucket, manifest } = await loadManifest(options);
  const prefix = options.prefix ?? "";
  const known = new Set(manifest.collections.map((c) => c.name));
  const unknown = (options.collections ?? []).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new AppError(
      "invalid_argument",
      `backup ${options.backupId} has no collection ${unknown.join(", ")}; it has ${[...known].join(", ")}`,
    );
  }
  const chosen = manifest.collections.filter(
    (c) => !options.collections || options.collections.includes(c.name),
  );
  await verifyBackup(bucket, manifest, Math.max(options.deadlineMs, 600_000));
  const report: RestoreReport = {
    backup_id: options.backupId,
    dry_run: options.dryRun === true,
    undelete: options.undelete === true,
    read_time: manifest.read_time_iso,
    collections: [],
    documents: 0,
    events_pending: 0,
  };
  for (const entry of chosen) {
    const { pending, ...counts } = await restoreObject(options, bucket, entry, prefix);
    report.collections.push({ name: entry.name, target: `${prefix}${entry.name}`, ...counts });
    report.documents += counts.documents;
    report.events_pending += pending;
  }
  return report;
}

async function loadManifest(
  options: RestoreOptions,
): Promise<{ bucket: Bucket; manifest: Manifest }> {
  const location = await findBackup({
    db: options.sourceDb,
    storage: options.storage,
    backupId: options.backupId,
    bucket: options.bucket,
    deadlineMs: options.deadlineMs,
  });
  const bucket = options.storage.bucket(location.bucket);
  let manifest: Manifest;
  try {
    const [text] = await withDeadline("storage.backup.manifest", options.deadlineMs, () =>
      bucket.file(location.manifest).download(),
    );
    manifest = parseManifest(text.toString("utf8"));
  } catch (error) {
    throw new AppError(
      "unprocessable",
      `backup ${options.backupId} is damaged: its manifest cannot be read`,
      { cause: error },
    );
  }
  if (manifest.backup_id !== options.backupId) {
    throw new AppError(
      "unprocessable",
      `backup ${options.backupId} is damaged: its manifest is backup ${manifest.backup_id}'s`,
    );
  }
  return { bucket, manifest };
}

// A page is read from the target with one getAll and committed in batches; a few are in flight.
const pageSize = 500;
const pagesInFlight = 4;

const outcomeField: Record<ToolOutcome, keyof Omit<CollectionReport, "name" | "target">> = {
  new: "new",
  changed: "changed",
  unchanged: "unchanged",
  "kept-deleted": "deleted_since",
  undeleted: "undeleted",
};

/**
 * Streams one object into the target page by page, each written under the sync contract
 * (ToolWriter: versions continue from the target's, server-time `updated_at`, events through
 * the outbox), with a bounded number of pages in flight; on a dry run the pages are only read
 * and planned. Resolves with the counts and the events left to the sweeper.
 */
async function restoreObject(
  options: RestoreOptions,
  bucket: Bucket,
  entry: Manifest["collections"][number],
  prefix: string,
): Promise<Omit<CollectionReport, "name" | "target"> & { pending: number }> {
  const tool = new ToolWriter({
    db: options.targetDb,
    dryRun: options.dryRun === true,
    publisher: options.publisher,
    source: toolSources.restore,
    undelete: options.undelete === true,
    rules: options.rules,
    throttle: options.throttle !== false,
    deadlineMs: options.deadlineMs,
  });
  const counts = { documents: 0, new: 0, changed: 0, unchanged: 0, deleted_since: 0, undeleted: 0 };
  const hash = createHash("sha256");
  const raw = bucket.file(entry.object).createReadStream();
  const tee = new PassThrough();
  raw.on("data", (chunk: Buffer) => hash.update(chunk));
  raw.on("error", (error) => tee.destroy(error));
  const lines = createInterface({ input: raw.pipe(tee).pipe(createGunzip()), crlfDelay: Infinity });
  let failure: unknown;
  const inFlight: Promise<void>[] = [];
  const send = (page: ToolItem[]) => {
    inFlight.push(
      tool.writePage(page).then(
        (results) => {
          for (const result of results) {
            if (result.error) failure ??= result.error;
            else {
              counts.documents++;
              counts[outcomeField[result.outcome]]++;
            }
          }
        },
        (error: unknown) => {
          failure ??= error;
        },
      ),
    );
  };
  let page: ToolItem[] = [];
  try {
    for await (const line of lines) {
      if (line.length === 0) continue;
      const { path, fields } = JSON.parse(line) as { path: string; fields: EncodedFields };
      page.push({
        ref: options.targetDb.doc(`${prefix}${path}`),
        fields: decodeFields(options.targetDb, fields),
      });
      if (page.length < pageSize) continue;
      send(page);
      page = [];
      if (inFlight.length >= pagesInFlight) await inFlight.shift();
    }
    if (page.length > 0) send(page);
  } finally {
    await Promise.all(inFlight);
  }
  // The events of what was written are published (or left to the sweeper) even on a failure.
  const events = await tool.settled();
  if (failure)
    throw new AppError(
      "unavailable",
      `restoring ${entry.name} failed: ${(failure as Error).message}`,
      { cause: failure },
    );
  // The object was verified before; this catches it changing in between.
  if (hash.digest("hex") !== entry.sha256 || counts.documents !== entry.documents) {
    throw new AppError(
      "unprocessable",
      `${entry.object} changed during the restore (${counts.documents} of ${entry.documents} documents restored)`,
    );
  }
  return { ...counts, pending: events.pending };
}
