import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";
import { createGunzip } from "node:zlib";
import { Timestamp } from "@google-cloud/firestore";
import {
  backupRequested,
  defaultBucketNames,
  type RealtimeUpdate,
  realtimeUpdates,
} from "@syncstack/shared";
import { resetFirestore, testProjectId, waitFor } from "@syncstack/shared/testing";
import { collectionObject } from "./backup-objects.ts";
import { exportCollection } from "./export-collection.ts";
import { parseManifest } from "./manifest.ts";
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
const backup = await startBackup(projectId, {
  topics: backupTopics,
  collect: [realtimeUpdates],
});
const ctx = backup.context;
const deps = depsOf(ctx);
const bucketName = defaultBucketNames(projectId).backups;
const bucket = ctx.storage.bucket(bucketName);
const events = backup.collected(realtimeUpdates);

after(async () => {
  await deps.exportDb.terminate();
  await backup.close();
});
beforeEach(async () => {
  await resetFirestore(projectId);
  await ctx.storage.createBucket(bucketName).catch(() => undefined);
});

async function seed(): Promise<void> {
  const db = ctx.firestore;
  const writer = db.bulkWriter({ throttling: false });
  for (let n = 0; n < 20; n++) {
    void writer.set(db.doc(`notes/n${n}`), everyType(db, n));
    if (n % 4 === 0) void writer.set(db.doc(`notes/n${n}/comments/c${n}`), everyType(db, n + 100));
  }
  // A subcollection under a document that does not exist, two levels deep.
  void writer.set(db.doc("notes/ghost/comments/c1/replies/r1"), everyType(db, 7));
  void writer.set(db.doc("profiles/p1"), { name: "p1", at: new Timestamp(1, 2_000) });
  void writer.set(db.doc("notes_other/x"), { not: "backed up" });
  await writer.close();
}

async function objectNames(): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix: "backups/" });
  return files.map((f) => f.name).sort();
}

describe("backup-requested", () => {
  test("round trip: every type, nested and in subcollections, backed up through Pub/Sub, wiped, restored field by field", async () => {
    await seed();
    await configureBackup(ctx.firestore, {
      enabled: true,
      collections: ["notes", "profiles"],
      storage_bucket: bucketName,
      retention_days: 30,
    });
    const before = await dump(deps.exportDb, ["notes", "profiles"]);
    assert.equal(before.size, 27);

    await ctx.publisher.publish(backupRequested, {
      requested_at: new Date().toISOString(),
      type: "manual",
    });
    const record = await waitFor(
      "a completed backup",
      async () => {
        const found = await ctx.firestore
          .collection("backups")
          .where("status", "==", "completed")
          .get();
        return found.docs[0];
      },
      30_000,
    );
    assert.equal(record.get("type"), "manual");
    assert.equal(record.get("document_count"), 27);
    assert.deepEqual(record.get("config.collections"), ["notes", "profiles"]);
    assert.ok(
      record.get("created_at") instanceof Timestamp &&
        record.get("completed_at") instanceof Timestamp,
    );
    const storagePath = `gs://${bucketName}/backups/${record.id}/manifest.json`;
    assert.equal(record.get("storage_path"), storagePath);

    const [text] = await bucket.file(`backups/${record.id}/manifest.json`).download();
    const manifest = parseManifest(text.toString());
    assert.deepEqual(
      manifest.collections.map((c) => [c.name, c.documents]),
      [
        ["notes", 26],
        ["profiles", 1],
      ],
    );
    assert.equal(manifest.format_version, 1);
    const lines = await gunzipLines(collectionObject(record.id, "profiles"));
    assert.deepEqual(JSON.parse(lines[0] ?? ""), {
      path: "profiles/p1",
      fields: { name: "p1", at: { __t: "ts", s: 1, n: 2_000 } },
    });

    const versions = await waitFor("both record events", () => {
      const found = events.payloads<RealtimeUpdate>().filter((e) => e.document === record.id);
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(versions.map((e) => [e.collection, e.op, e.version, e.source]).sort(), [
      ["backups", "create", 1, "backup"],
      ["backups", "update", 2, "backup"],
    ]);

    await ctx.firestore.recursiveDelete(ctx.firestore.collection("notes"));
    await ctx.firestore.recursiveDelete(ctx.firestore.collection("profiles"));
    assert.equal((await dump(deps.exportDb, ["notes", "profiles"])).size, 0);
    const report = await restoreBackup({
      sourceDb: ctx.firestore,
      targetDb: ctx.firestore,
      storage: ctx.storage,
      backupId: record.id,
      throttle: false,
      deadlineMs: 10_000,
    });
    assert.equal(report.documents, 27);
    const restored = await dump(deps.exportDb, ["notes", "profiles"]);
    assert.deepEqual([...restored.keys()].sort(), [...before.keys()].sort());
    for (const [path, fields] of before) assert.deepEqual(restored.get(path), fields, path);
    assert.equal(
      (await ctx.firestore.doc("notes_other/x").get()).exists,
      true,
      "other collections untouched",
    );
  });

  test("every page is read at the backup's read time: later writes are not in it", async () => {
    const db = ctx.firestore;
    for (let n = 0; n < 10; n++) await db.doc(`items/i${n}`).set({ n });
    const readTime = (await db.doc("items/i0").set({ n: 0, marker: true })).writeTime;
    await db.doc("items/i3").set({ n: 333 });
    await db.doc("items/i99").set({ n: 99 });
    await db.doc("items/i5/sub/s").set({ late: true });
    const exported = await exportCollection({
      db: deps.exportDb,
      bucket,
      collection: "items",
      object: "backups/x/items.ndjson.gz",
      readTime,
      pageSize: 3,
      pageDeadlineMs: 10_000,
      signal: new AbortController().signal,
    });
    assert.equal(exported.documents, 10);
    const docs = (await gunzipLines("backups/x/items.ndjson.gz")).map(
      (l) => JSON.parse(l) as { path: string; fields: { n: { v: string } } },
    );
    assert.deepEqual(
      docs.map((d) => d.path),
      ["i0", "i1", "i2", "i3", "i4", "i5", "i6", "i7", "i8", "i9"].map((id) => `items/${id}`),
    );
    assert.equal(docs[3]?.fields.n.v, "3");
  });

  test("the bucket disappearing midway leaves a failed record with the reason and no objects", async () => {
    await seed();
    await configureBackup(ctx.firestore, {
      enabled: true,
      collections: ["notes", "profiles"],
      storage_bucket: bucketName,
      retention_days: 30,
    });
    const outcome = await runBackup(
      {
        ...deps,
        afterCollection: async () => {
          await bucket.deleteFiles({ force: true });
          await bucket.delete();
        },
      },
      "automated",
    );
    assert.equal(outcome.status, "failed");
    const record = await ctx.firestore.doc(`backups/${outcome.id}`).get();
    assert.equal(record.get("status"), "failed");
    assert.match(String(record.get("reason")), /.+/);
    assert.equal(record.get("completed_at"), undefined);
    await ctx.storage.createBucket(bucketName);
    assert.deepEqual(await objectNames(), []);
  });

  test("a failure after some objects were written removes them", async () => {
    await seed();
    await configureBackup(ctx.firestore, {
      enabled: true,
      collections: ["notes", "profiles"],
      storage_bucket: bucketName,
      retention_days: 30,
    });
    let seen: string[] = [];
    const outcome = await runBackup(
      {
        ...deps,
        afterCollection: async (collection) => {
          seen = await objectNames();
          if (collection === "notes") throw new Error("disk on fire");
        },
      },
      "automated",
    );
    assert.equal(seen.length, 1, "the notes object was written before the failure");
    assert.deepEqual([outcome.status, outcome.reason], ["failed", "Error: disk on fire"]);
    assert.equal((await ctx.firestore.doc(`backups/${outcome.id}`).get()).get("status"), "failed");
    assert.deepEqual(await objectNames(), []);
  });

  test("retention deletes older backups' records and objects in the bucket their config names", async () => {
    const otherBucket = `${projectId}-old-backups`;
    await ctx.storage.createBucket(otherBucket).catch(() => undefined);
    const old = Timestamp.fromMillis(Date.now() - 40 * 86_400_000);
    const recent = Timestamp.fromMillis(Date.now() - 5 * 86_400_000);
    await ctx.firestore
      .doc("backups/old")
      .set({ status: "completed", created_at: old, config: { storage_bucket: otherBucket } });
    await ctx.firestore
      .doc("backups/recent")
      .set({ status: "completed", created_at: recent, config: { storage_bucket: bucketName } });
    await ctx.storage.bucket(otherBucket).file("backups/old/manifest.json").save("{}");
    await bucket.file("backups/recent/manifest.json").save("{}");
    await ctx.firestore.doc("profiles/p1").set({ name: "p1" });
    await configureBackup(ctx.firestore, {
      enabled: true,
      collections: ["profiles"],
      storage_bucket: bucketName,
      retention_days: 30,
    });

    const outcome = await runBackup(deps, "automated");
    assert.equal(outcome.status, "completed");
    const ids = (await ctx.firestore.collection("backups").get()).docs.map((d) => d.id).sort();
    assert.deepEqual(ids, [outcome.id, "recent"].sort());
    const [oldFiles] = await ctx.storage.bucket(otherBucket).getFiles({ prefix: "backups/" });
    assert.deepEqual(oldFiles, []);
    assert.ok((await objectNames()).includes("backups/recent/manifest.json"));
  });
});

async function gunzipLines(object: string): Promise<string[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of bucket.file(object).createReadStream().pipe(createGunzip()))
    chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .split("\n")
    .filter((line) => line.length > 0);
}
