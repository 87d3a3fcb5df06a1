import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { EncodedValue } from "@syncstack/shared/firestore-codec";
import type { WhereClause } from "./parse-where.ts";

/** Running totals of a migration; `read` = `written` + `skipped` + `failed`. */
export interface MigrationCounts {
  read: number;
  written: number;
  skipped: number;
  failed: number;
  /** Documents copied from subcollections (with --recursive). */
  nested: number;
  /** Source documents deleted (with --delete-source). */
  deleted: number;
  /** Writes retried after a transient error (contention, unavailable). */
  retries: number;
  /**
   * Of `written`, documents whose target already held the same content, or had been deleted
   * since (the sync contract keeps it deleted): not rewritten, no new version.
   */
  unchanged: number;
}

/** What makes two runs the same migration, so a checkpoint is only resumed by its own. */
export interface MigrationIdentity {
  project: string | null;
  from: string;
  to: string;
  where: WhereClause[];
  transform: string | null;
  recursive: boolean;
  deleteSource: boolean;
}

/**
 * The checkpoint format: 2 since the cursor's values use the shared Firestore codec (1 had
 * the migrate tool's own encoding, which this one does not read).
 */
export const checkpointVersion = 2;

/** The state `--resume` continues from, written after each page is fully written. */
export interface Checkpoint {
  version: typeof checkpointVersion;
  migration: MigrationIdentity;
  /** The last source document done (with the values of the fields paging orders by). */
  after: { id: string; values: EncodedValue[] } | null;
  complete: boolean;
  counts: MigrationCounts;
  /** Size of the failure report when this checkpoint was written. */
  reportBytes: number;
  updatedAt: string;
}

/** Zero counts. */
export function emptyCounts(): MigrationCounts {
  return {
    read: 0,
    written: 0,
    skipped: 0,
    failed: 0,
    nested: 0,
    deleted: 0,
    retries: 0,
    unchanged: 0,
  };
}

/** `.syncstack/migrations/<from>-><to>.json` under `baseDir`; `/` in paths is escaped. */
export function defaultCheckpointPath(baseDir: string, from: string, to: string): string {
  const name = `${encodeURIComponent(from)}->${encodeURIComponent(to)}.json`;
  return join(baseDir, ".syncstack", "migrations", name);
}

/** The failure report beside a checkpoint; a dry run keeps its own. */
export function defaultReportPath(checkpointPath: string, dryRun: boolean): string {
  const stem = checkpointPath.replace(/\.json$/, "");
  return `${stem}.${dryRun ? "dry-run-failures" : "failures"}.ndjson`;
}

/** The checkpoint at `path`, or undefined when there is none. */
export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const checkpoint = JSON.parse(text) as Checkpoint;
  if ((checkpoint.version as number) === 1) {
    throw new Error(
      `${path} was written by an older migrate whose cursor encoding this one does not read: run again with --restart`,
    );
  }
  if (checkpoint.version !== checkpointVersion) {
    throw new Error(`${path} is not a migration checkpoint`);
  }
  return checkpoint;
}

/** Replaces the checkpoint atomically, so a kill never leaves half a file. */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  await rename(temporary, path);
}

/** Removes a checkpoint (for --restart). */
export async function removeCheckpoint(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** The settings in which two identities differ, empty when they are the same migration. */
export function identityDifferences(a: MigrationIdentity, b: MigrationIdentity): string[] {
  const keys = Object.keys(a) as (keyof MigrationIdentity)[];
  return keys.filter((key) => JSON.stringify(a[key]) !== JSON.stringify(b[key]));
}
