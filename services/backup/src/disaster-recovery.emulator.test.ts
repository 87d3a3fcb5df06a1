import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { defaultBucketNames } from "@syncstack/shared";
import { resetFirestore, testProjectId } from "@syncstack/shared/testing";
import { listBackups } from "./list-backups.ts";
import { restoreBackup } from "./restore.ts";
import { runBackup } from "./run-backup.ts";
import {
  backupTopics,
  configureBackup,
  depsOf,
  dump,
  everyType,
  startBackup,
} from "./testing/backup-fixture.ts";

const projectId = testProjectId();
const backup = await startBackup(projectId, { topics: backupTopics, unsubscribed: true });
const ctx = backup.context;
const deps = depsOf(ctx);
const db = ctx.firestore;

after(async () => {
  await deps.exportDb.terminate();
  await backup.close();
});

async function rootCollections(): Promise<string[]> {
  return (await db.listCollections()).map((c) => c.id).sort();
}

test("drill: back up, wipe every collection (backups and config too), restore from the bucket alone", async () => {
  await resetFirestore(projectId);
  for (let n = 0; n < 6; n++) await db.doc(`notes/n${n}`).set(everyType(db, n));
  await db.doc("notes/n2/comments/c1").set(everyType(db, 20));
  await db.doc("notes/ghost/comments/c1").set({ orphan: true });
  await db.doc("users/u1").set({ email: "u1@example.com", created_at: new Timestamp(5, 6) });
  // Not `backups`: its records would come back with this backup's own as in_progress (it is
  // read at its read time); the bucket lists the backups.
  const collections = ["notes", "users", "config"];
  await configureBackup(db, {
    enabled: true,
    collections,
    storage_bucket: defaultBucketNames(projectId).backups,
    retention_days: 30,
  });
  // An earlier backup's record, which the backup of `backups` carries.
  await db
    .doc("backups/earlier")
    .set({ status: "skipped", reason: "drill", created_at: new Timestamp(9, 0) });
  const outcome = await runBackup(deps, "manual");
  assert.equal(outcome.status, "completed");
  const before = await dump(deps.exportDb, collections);

  await resetFirestore(projectId);
  assert.deepEqual(await rootCollections(), []);

  const listed = await listBackups({ db, storage: ctx.storage, deadlineMs: 10_000 });
  assert.deepEqual(
    listed.map((b) => [b.id, b.status, b.has_record, b.document_count]),
    [[outcome.id, "completed", false, before.size]],
  );
  const report = await restoreBackup({
    sourceDb: db,
    targetDb: db,
    storage: ctx.storage,
    backupId: outcome.id,
    throttle: false,
    deadlineMs: 10_000,
  });
  assert.equal(report.documents, before.size);
  assert.deepEqual(await rootCollections(), ["config", "notes", "users"]);
  const after = await dump(deps.exportDb, collections);
  assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  for (const [path, fields] of before) assert.deepEqual(after.get(path), fields, path);
});
