import type { DocumentSnapshot, Firestore } from "@google-cloud/firestore";
import type { File, Storage } from "@google-cloud/storage";
import { withDeadline } from "@syncstack/shared";
import { backupIdOfObject, manifestObject, timeOfBackupId } from "./backup-objects.ts";
import { backupsCollection } from "./backup-records.ts";
import { configuredBuckets, recordBucket, recordedLocation } from "./find-backup.ts";
import { projectOf } from "./firestore-client.ts";
import { type Manifest, parseManifest } from "./manifest.ts";

/** One backup as the listing shows it, from its record, its bucket, or both. */
export interface BackupSummary {
  id: string;
  /** The record's status; without a record, `completed` when the manifest is there, else `incomplete`. */
  status: string;
  /** False for a backup found only in the bucket (its record lost, or never written). */
  has_record: boolean;
  type: string | null;
  /** The record's `created_at`, else the manifest's read time, else the time in the id (ISO 8601). */
  created_at: string | null;
  completed_at: string | null;
  document_count: number | null;
  collections: { name: string; documents: number }[];
  /** Bytes of the backup's objects in the bucket. */
  bytes: number;
  objects: number;
  bucket: string | null;
  storage_path: string | null;
  reason: string | null;
}

/**
 * Every backup that has a record or objects in a backups bucket (the one `config/backup`
 * names, the default one, and those records name), newest first.
 */
export async function listBackups(options: {
  db: Firestore;
  storage: Storage;
  deadlineMs: number;
}): Promise<BackupSummary[]> {
  const { db, storage, deadlineMs } = options;
  const records = await withDeadline("firestore.backups.list", deadlineMs, () =>
    db.collection(backupsCollection).get(),
  );
  const buckets = new Set(await configuredBuckets(db, deadlineMs));
  for (const record of records.docs) buckets.add(recordBucket(record, projectOf(db)));
  const folders = new Map<string, { bucket: string; files: File[] }>();
  for (const bucket of buckets) {
    for (const file of await filesOf(storage, bucket, deadlineMs)) {
      const id = backupIdOfObject(file.name);
      if (!id) continue;
      const folder = folders.get(`${bucket}/${id}`) ?? { bucket, files: [] };
      folder.files.push(file);
      folders.set(`${bucket}/${id}`, folder);
    }
  }
  const summaries: BackupSummary[] = [];
  const seen = new Set<string>();
  for (const record of records.docs) {
    const bucket = recordBucket(record, projectOf(db));
    const named = recordedLocation(record, projectOf(db));
    const files = [...(folders.get(`${bucket}/${record.id}`)?.files ?? [])];
    seen.add(`${bucket}/${record.id}`);
    if (named && !files.some((f) => f.name === named.object)) {
      const extra = await metadataOf(storage, named.bucket, named.object, deadlineMs);
      if (extra) files.push(extra);
    }
    const manifest = await manifestIn(storage, bucket, record.id, files, deadlineMs);
    summaries.push(fromRecord(record, files, bucket, manifest.manifest));
  }
  for (const [key, folder] of folders) {
    if (seen.has(key)) continue;
    const id = key.slice(folder.bucket.length + 1);
    if (records.docs.some((r) => r.id === id)) continue;
    summaries.push(await fromBucket(storage, id, folder.bucket, folder.files, deadlineMs));
  }
  return summaries.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** A backup's summary: by its record if it has one, else from its bucket; undefined if neither. */
export async function describeBackup(options: {
  db: Firestore;
  storage: Storage;
  backupId: string;
  deadlineMs: number;
}): Promise<BackupSummary | undefined> {
  const all = await listBackups(options);
  return all.find((summary) => summary.id === options.backupId);
}

function fromRecord(
  record: DocumentSnapshot,
  files: File[],
  bucket: string,
  manifest: Manifest | undefined,
): BackupSummary {
  const count = record.get("document_count");
  const path = record.get("storage_path");
  return {
    id: record.id,
    status: String(record.get("status") ?? "unknown"),
    has_record: true,
    type: stringOrNull(record.get("type")),
    created_at: isoOf(record.get("created_at")),
    completed_at: isoOf(record.get("completed_at")),
    document_count: typeof count === "number" ? count : null,
    collections: countsOf(manifest),
    bytes: sizeOf(files),
    objects: files.length,
    bucket: files.length > 0 || typeof path === "string" ? bucket : null,
    storage_path: typeof path === "string" ? path : null,
    reason: stringOrNull(record.get("reason")),
  };
}

async function fromBucket(
  storage: Storage,
  id: string,
  bucket: string,
  files: File[],
  deadlineMs: number,
): Promise<BackupSummary> {
  const { manifest, problem } = await manifestIn(storage, bucket, id, files, deadlineMs);
  return {
    id,
    status: manifest ? "completed" : "incomplete",
    has_record: false,
    type: null,
    created_at: manifest?.read_time_iso ?? timeOfBackupId(id)?.toISOString() ?? null,
    completed_at: null,
    document_count: manifest?.document_count ?? null,
    collections: countsOf(manifest),
    bytes: sizeOf(files),
    objects: files.length,
    bucket,
    storage_path: manifest ? `gs://${bucket}/${manifestObject(id)}` : null,
    reason: manifest ? "no record" : `no record; ${problem}`,
  };
}

/** The manifest among a backup's objects, or why there is none. */
async function manifestIn(
  storage: Storage,
  bucket: string,
  id: string,
  files: File[],
  deadlineMs: number,
): Promise<{ manifest?: Manifest; problem?: string }> {
  const name = manifestObject(id);
  if (!files.some((f) => f.name === name)) return { problem: "no manifest (it did not finish)" };
  try {
    const [text] = await withDeadline("storage.backup.manifest", deadlineMs, () =>
      storage.bucket(bucket).file(name).download(),
    );
    return { manifest: parseManifest(text.toString("utf8")) };
  } catch (error) {
    return { problem: `the manifest cannot be read: ${(error as Error).message}` };
  }
}

function countsOf(manifest: Manifest | undefined): { name: string; documents: number }[] {
  return manifest?.collections.map((c) => ({ name: c.name, documents: c.documents })) ?? [];
}

async function filesOf(storage: Storage, bucket: string, deadlineMs: number): Promise<File[]> {
  try {
    const [files] = await withDeadline("storage.backup.list", deadlineMs, () =>
      storage.bucket(bucket).getFiles({ prefix: "backups/" }),
    );
    return files;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return [];
    throw error;
  }
}

async function metadataOf(
  storage: Storage,
  bucket: string,
  object: string,
  deadlineMs: number,
): Promise<File | undefined> {
  const file = storage.bucket(bucket).file(object);
  try {
    await withDeadline("storage.backup.metadata", deadlineMs, () => file.getMetadata());
    return file;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

function sizeOf(files: File[]): number {
  return files.reduce((sum, f) => sum + Number(f.metadata.size ?? 0), 0);
}

function isoOf(value: unknown): string | null {
  return value && typeof (value as { toDate?: unknown }).toDate === "function"
    ? (value as { toDate(): Date }).toDate().toISOString()
    : null;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
