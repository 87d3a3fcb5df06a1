import { createHash } from "node:crypto";
import { createInterface } from "node:readline";
import { PassThrough } from "node:stream";
import { createGunzip } from "node:zlib";
import type { Firestore } from "@google-cloud/firestore";
import type { Bucket, Storage } from "@google-cloud/storage";
import { AppError, withDeadline } from "@syncstack/shared";
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
  /** BulkWriter's 500/50/5 ramp-up, as production wants; off for an emulator or a bulk load. */
  throttle?: boolean;
  deadlineMs: number;
}

/** What a restore did, or would do on a dry run. */
export interface RestoreReport {
  backup_id: string;
  dry_run: boolean;
  read_time: string;
  collections: { name: string; target: string; documents: number }[];
  documents: number;
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
    read_time: manifest.read_time_iso,
    collections: [],
    documents: 0,
  };
  for (const entry of chosen) {
    const documents = options.dryRun
      ? entry.documents
      : await restoreObject(options, bucket, entry, prefix);
    report.collections.push({ name: entry.name, target: `${prefix}${entry.name}`, documents });
    report.documents += documents;
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

const maxInFlight = 2_000;

/** Streams one object into BulkWriter with a bounded number of writes in flight. */
async function restoreObject(
  options: RestoreOptions,
  bucket: Bucket,
  entry: Manifest["collections"][number],
  prefix: string,
): Promise<number> {
  const writer = options.targetDb.bulkWriter({ throttling: options.throttle !== false });
  const hash = createHash("sha256");
  const raw = bucket.file(entry.object).createReadStream();
  const tee = new PassThrough();
  raw.on("data", (chunk: Buffer) => hash.update(chunk));
  raw.on("error", (error) => tee.destroy(error));
  const lines = createInterface({ input: raw.pipe(tee).pipe(createGunzip()), crlfDelay: Infinity });
  let written = 0;
  let inFlight = 0;
  let failure: unknown;
  let wake: (() => void) | undefined;
  for await (const line of lines) {
    if (line.length === 0) continue;
    const { path, fields } = JSON.parse(line) as { path: string; fields: EncodedFields };
    const ref = options.targetDb.doc(`${prefix}${path}`);
    inFlight++;
    writer
      .set(ref, decodeFields(options.targetDb, fields))
      .then(
        () => written++,
        (error: unknown) => (failure ??= error),
      )
      .finally(() => {
        inFlight--;
        wake?.();
      });
    while (inFlight >= maxInFlight) await new Promise<void>((resolve) => (wake = resolve));
  }
  await writer.close();
  if (failure)
    throw new AppError(
      "unavailable",
      `restoring ${entry.name} failed: ${(failure as Error).message}`,
      { cause: failure },
    );
  // The object was verified before; this catches it changing in between.
  if (hash.digest("hex") !== entry.sha256 || written !== entry.documents) {
    throw new AppError(
      "unprocessable",
      `${entry.object} changed during the restore (${written} of ${entry.documents} documents written)`,
    );
  }
  return written;
}
