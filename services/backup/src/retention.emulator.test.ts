import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { defaultBucketNames } from "@syncstack/shared";
import { resetFirestore, testProjectId } from "@syncstack/shared/testing";
import { newBackupId } from "./backup-records.ts";
import { applyRetention } from "./retention.ts";
import { runBackup } from "./run-backup.ts";
import { backupTopics, configureBackup, depsOf, startBackup } from "./testing/backup-fixture.ts";

const projectId = testProjectId();
const backup = await startBackup(projectId, { topics: backupTopics, unsubscribed: true });
const ctx = backup.context;
const deps = depsOf(ctx);
const bucketName = defaultBucketNames(projectId).backups;
const bucket = ctx.storage.bucket(bucketName);
const db = ctx.firestore;
const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

after(async () => {
  await deps.exportDb.terminate();
  await backup.close();
});
beforeEach(async () => {
  await resetFirestore(projectId);
  await bucket.deleteFiles({ force: true });
});

async function objectNames(): Promise<string[]> {
  const [files] = await bucket.getFiles();
  return files.map((f) => f.name).sort();
}

const retention = (keep = "none") =>
  applyRetention({
    db,
    storage: ctx.storage,
    retentionDays: 30,
    defaultBucket: bucketName,
    keep,
    now: new Date(),
    deadlineMs: 10_000,
    logger: ctx.logger,
  });

describe("retention", () => {
  test("deletes a seed-format record with the object its storage_path names, and its own folder", async () => {
    // As the seed's backup function wrote it: storage_path a bare object name in the bucket.
    await db.doc("backups/seed-old").set({
      created_at: Timestamp.fromDate(daysAgo(45)),
      status: "completed",
      type: "automated",
      config: { enabled: true, collections: ["notes"], storage_bucket: bucketName },
      completed_at: Timestamp.fromDate(daysAgo(45)),
      storage_path: "exports/2026-10-01/notes.json",
      document_count: 3,
    });
    await db.doc("backups/seed-recent").set({
      created_at: Timestamp.fromDate(daysAgo(2)),
      status: "completed",
      config: { storage_bucket: bucketName },
      storage_path: "exports/2026-11-30/notes.json",
    });
    for (const name of [
      "exports/2026-10-01/notes.json",
      "exports/2026-10-01/notes.json/part-1",
      "backups/seed-old/extra.json",
      "exports/2026-11-30/notes.json",
    ]) {
      await bucket.file(name).save("{}", { resumable: false });
    }
    const result = await retention();
    assert.deepEqual(result, { deleted: ["seed-old"], orphans: [] });
    assert.deepEqual(await objectNames(), ["exports/2026-11-30/notes.json"]);
    const left = (await db.collection("backups").get()).docs.map((d) => d.id);
    assert.deepEqual(left, ["seed-recent"]);
  });

  test("sweeps the objects of backups without a record once past the retention, and only those", async () => {
    const orphanOld = newBackupId(daysAgo(40));
    const orphanRecent = newBackupId(daysAgo(3));
    const recorded = newBackupId(daysAgo(40));
    await db.doc(`backups/${recorded}`).set({
      created_at: Timestamp.fromDate(daysAgo(10)),
      status: "completed",
      config: { storage_bucket: bucketName },
      storage_path: `gs://${bucketName}/backups/${recorded}/manifest.json`,
    });
    for (const id of [orphanOld, orphanRecent, recorded]) {
      // A crash before the record was written leaves collection objects and no manifest.
      await bucket.file(`backups/${id}/collections/notes.ndjson.gz`).save("x", {
        resumable: false,
      });
    }
    await bucket.file(`backups/${recorded}/manifest.json`).save("{}", { resumable: false });
    await bucket.file("backups/not-a-backup-id/x").save("x", { resumable: false });

    const result = await retention();
    assert.deepEqual(result, { deleted: [], orphans: [orphanOld] });
    assert.deepEqual(
      await objectNames(),
      [
        "backups/not-a-backup-id/x",
        `backups/${orphanRecent}/collections/notes.ndjson.gz`,
        `backups/${recorded}/collections/notes.ndjson.gz`,
        `backups/${recorded}/manifest.json`,
      ].sort(),
    );
  });

  test("a completed backup applies both: expired records and old orphans are gone, nothing else", async () => {
    await db.doc("profiles/p1").set({ name: "p1" });
    await configureBackup(db, {
      enabled: true,
      collections: ["profiles"],
      storage_bucket: bucketName,
      retention_days: 30,
    });
    const orphan = newBackupId(daysAgo(31));
    await bucket.file(`backups/${orphan}/manifest.json`).save("{}", { resumable: false });
    await db.doc("backups/seed").set({
      created_at: Timestamp.fromDate(daysAgo(60)),
      status: "completed",
      config: { storage_bucket: bucketName },
      storage_path: "seed-backup.json",
    });
    await bucket.file("seed-backup.json").save("{}", { resumable: false });

    const outcome = await runBackup(deps, "automated");
    assert.equal(outcome.status, "completed");
    const names = await objectNames();
    assert.ok(names.length > 0);
    assert.ok(
      names.every((name) => name.startsWith(`backups/${outcome.id}/`)),
      names.join(", "),
    );
    const ids = (await db.collection("backups").get()).docs.map((d) => d.id);
    assert.deepEqual(ids, [outcome.id]);
  });
});
