// Helpers for the migration tests: options with temporary paths, seeding, captured output.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, beforeEach } from "node:test";
import { type DocumentData, Firestore } from "@google-cloud/firestore";
import { emulatorHosts, resetFirestore } from "@syncstack/shared/testing";
import { defaultCheckpointPath, defaultReportPath } from "./checkpoint.ts";
import type { MigrationIo, MigrationOptions } from "./run-migration.ts";

/** A fresh temporary directory for checkpoints and reports. */
export function temporaryDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "migrate-test-"));
}

/**
 * What a migration test file shares: a client on its own project (BigInts kept), reset before
 * each test, and a temporary directory per test for checkpoints and reports.
 */
export function migrationFixture(projectId: string): { db: Firestore; dir(): string } {
  const db = new Firestore({
    projectId,
    host: emulatorHosts().firestore,
    ssl: false,
    useBigInt: true,
  });
  let dir = "";
  after(() => db.terminate());
  beforeEach(async () => {
    await resetFirestore(projectId);
    dir = await temporaryDir();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));
  return { db, dir: () => dir };
}

/** Options as the CLI would build them, with paths under `dir`; `overrides` win. */
export function testOptions(
  dir: string,
  overrides: Partial<MigrationOptions> & Pick<MigrationOptions, "from" | "to">,
): MigrationOptions {
  const checkpointPath =
    overrides.checkpointPath ?? defaultCheckpointPath(dir, overrides.from, overrides.to);
  return {
    where: [],
    transform: undefined,
    transformPath: undefined,
    recursive: false,
    deleteSource: false,
    dryRun: false,
    resume: false,
    restart: false,
    pageSize: 100,
    reportPath: defaultReportPath(checkpointPath, overrides.dryRun ?? false),
    project: undefined,
    throttling: false,
    maxWriteAttempts: 10,
    ...overrides,
    checkpointPath,
  };
}

/** Output streams that keep what was written. */
export function captureIo(tty = false): MigrationIo & { text(): string; progressText(): string } {
  let out = "";
  let progress = "";
  return {
    out: { write: (text: string) => (out += text) },
    progress: { write: (text: string) => (progress += text), isTTY: tty },
    text: () => out,
    progressText: () => progress,
  };
}

/** Writes `count` documents `d00000`, `d00001`, ... with `make(n)` as data. */
export async function seed(
  db: Firestore,
  collection: string,
  count: number,
  make: (n: number) => DocumentData = (n) => ({ n, title: `document ${n}` }),
): Promise<void> {
  const writer = db.bulkWriter({ throttling: false });
  for (let n = 0; n < count; n++) {
    void writer.set(db.collection(collection).doc(docId(n)), make(n));
  }
  await writer.close();
}

/** The id `seed` gives document n. */
export function docId(n: number): string {
  return `d${String(n).padStart(5, "0")}`;
}

/** Every document of a collection as id -> data. */
export async function readAll(
  db: Firestore,
  collection: string,
): Promise<Map<string, DocumentData>> {
  const snapshot = await db.collection(collection).get();
  return new Map(snapshot.docs.map((doc) => [doc.id, doc.data()]));
}
