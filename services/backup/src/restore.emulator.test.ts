import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, beforeEach, describe, test } from "node:test";
import { promisify } from "node:util";
import { PubSub } from "@google-cloud/pubsub";
import { defaultBucketNames, realtimeUpdates } from "@syncstack/shared";
import {
  emulatorHosts,
  resetFirestore,
  type TestRequest,
  testProjectId,
} from "@syncstack/shared/testing";
import { collectionObject } from "./backup-objects.ts";
import { firestoreFor } from "./firestore-client.ts";
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
const otherProject = testProjectId();
const backup = await startBackup(projectId, { topics: backupTopics, unsubscribed: true });
const ctx = backup.context;
const deps = depsOf(ctx);
const other = firestoreFor(ctx.config, otherProject, true);
const bucket = ctx.storage.bucket(defaultBucketNames(projectId).backups);
const db = ctx.firestore;
let backupId: string;
// A restore publishes its events to the project it restores into: that one has the topic too.
const otherPubsub = new PubSub({
  projectId: otherProject,
  apiEndpoint: emulatorHosts().pubsub,
  emulatorMode: true,
});
await otherPubsub.createTopic(realtimeUpdates.name);
await otherPubsub.close();

after(async () => {
  await Promise.all([deps.exportDb.terminate(), other.terminate()]);
  await backup.close();
});
beforeEach(async () => {
  await Promise.all([resetFirestore(projectId), resetFirestore(otherProject)]);
  for (let n = 0; n < 5; n++) await db.doc(`notes/n${n}`).set(everyType(db, n));
  await db.doc("notes/n1/comments/c1").set({ text: "hi" });
  await db.doc("tags/t1").set({ name: "t1" });
  await configureBackup(db, { enabled: true, collections: ["notes", "tags"], retention_days: 30 });
  const outcome = await runBackup(deps, "manual");
  assert.equal(outcome.status, "completed");
  backupId = outcome.id;
});

const base = () => ({
  sourceDb: db,
  storage: ctx.storage,
  backupId,
  throttle: false,
  deadlineMs: 10_000,
});

describe("restore", () => {
  test("some collections into another project under a prefix, keeping every type", async () => {
    const report = await restoreBackup({
      ...base(),
      targetDb: other,
      collections: ["notes"],
      prefix: "r_",
    });
    assert.deepEqual(report.collections, [
      {
        name: "notes",
        target: "r_notes",
        documents: 6,
        new: 6,
        changed: 0,
        unchanged: 0,
        deleted_since: 0,
        undeleted: 0,
      },
    ]);
    const source = await dump(deps.exportDb, ["notes"]);
    const restored = await dump(other, ["r_notes", "tags", "r_tags"]);
    assert.equal(restored.size, 6);
    for (const [path, fields] of source) assert.deepEqual(restored.get(`r_${path}`), fields, path);
  });

  test("a dry run verifies and reports without writing", async () => {
    const report = await restoreBackup({ ...base(), targetDb: other, dryRun: true });
    assert.deepEqual([report.dry_run, report.documents], [true, 7]);
    assert.equal((await dump(other, ["notes", "tags"])).size, 0);
  });

  test("a corrupted object is refused before anything is written", async () => {
    const name = collectionObject(backupId, "tags");
    const [bytes] = await bucket.file(name).download();
    bytes[bytes.length - 5] = (bytes[bytes.length - 5] ?? 0) ^ 0xff;
    await bucket.file(name).save(bytes, { resumable: false });
    await assert.rejects(
      restoreBackup({ ...base(), targetDb: other, collections: ["notes"] }),
      (error: Error) =>
        /is damaged: its object .*tags.* does not match its checksum/.test(error.message),
    );
    await bucket.file(collectionObject(backupId, "notes")).delete();
    await assert.rejects(
      restoreBackup({ ...base(), targetDb: other }),
      /notes\.ndjson\.gz is missing/,
    );
    assert.equal((await dump(other, ["notes", "tags"])).size, 0);
  });

  test("restores from the bucket alone once its record and config/backup are gone", async () => {
    await db.doc(`backups/${backupId}`).delete();
    await db.doc("config/backup").delete();
    const report = await restoreBackup({ ...base(), targetDb: other, collections: ["tags"] });
    assert.deepEqual(report.collections, [
      {
        name: "tags",
        target: "tags",
        documents: 1,
        new: 1,
        changed: 0,
        unchanged: 0,
        deleted_since: 0,
        undeleted: 0,
      },
    ]);
    assert.deepEqual([...(await dump(other, ["tags"])).keys()], ["tags/t1"]);
    await assert.rejects(
      restoreBackup({ ...base(), targetDb: other, bucket: `${projectId}-elsewhere` }),
      new RegExp(`there is no backup ${backupId}: .*gs://${projectId}-elsewhere/backups/`),
    );
  });

  test("a manifest that names another backup is refused as damaged", async () => {
    const [text] = await bucket.file(`backups/${backupId}/manifest.json`).download();
    const copy = "20200101T000000000Z-abcdef";
    await bucket.file(`backups/${copy}/manifest.json`).save(text, { resumable: false });
    await assert.rejects(
      restoreBackup({ ...base(), targetDb: other, backupId: copy }),
      /is damaged: its manifest is backup .*'s/,
    );
  });

  test("an unknown backup, an unfinished one and an unknown collection are refused", async () => {
    await assert.rejects(
      restoreBackup({ ...base(), targetDb: other, backupId: "nope" }),
      /there is no backup nope/,
    );
    await db.doc("backups/running").set({ status: "in_progress" });
    await assert.rejects(
      restoreBackup({ ...base(), targetDb: other, backupId: "running" }),
      /is in_progress, not completed/,
    );
    await assert.rejects(
      restoreBackup({ ...base(), targetDb: other, collections: ["users"] }),
      /has no collection users/,
    );
  });

  test("the admin endpoint needs an admin token and restores with the same options", async () => {
    const call = (caller: TestRequest, body: unknown, id = backupId) =>
      backup.post(`/v1/backups/${id}:restore`, body, caller);
    const admin: TestRequest = { uid: "root", claims: { admin: true } };
    assert.equal((await call({ uid: null }, {})).status, 401);
    assert.equal((await call({ uid: "alice" }, {})).status, 403);
    assert.equal((await call(admin, { prefix: "a/b" })).status, 400);
    // Found by the fuzzer: a misspelt option restored for real, a "." id was a 500.
    assert.equal((await call(admin, { dryRun: true })).status, 400);
    assert.equal((await call(admin, {}, ".")).status, 400);
    const response = await call(admin, { collections: ["tags"], project: otherProject });
    assert.equal(response.status, 200);
    const { read_time, ...report } = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(report, {
      backup_id: backupId,
      dry_run: false,
      undelete: false,
      collections: [
        {
          name: "tags",
          target: "tags",
          documents: 1,
          new: 1,
          changed: 0,
          unchanged: 0,
          deleted_since: 0,
          undeleted: 0,
        },
      ],
      documents: 1,
      events_pending: 0,
    });
    assert.equal(read_time, await manifestReadTime());
    assert.deepEqual([...(await dump(other, ["tags", "notes"])).keys()], ["tags/t1"]);
  });

  test("the CLI restores, and bad arguments print the usage and exit 2", async () => {
    const run = promisify(execFile);
    const env = { ...process.env, GOOGLE_CLOUD_PROJECT: projectId, LOG_LEVEL: "ERROR" };
    const cli = ["--conditions=source", "services/backup/src/restore-cli.ts"];
    const bad = await run(process.execPath, [...cli, "--collections", "notes"], { env }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    assert.equal((bad as { code: number }).code, 2);
    assert.match(
      (bad as { stderr: string }).stderr,
      /--backup <id> is required[\s\S]*usage: \.\/syncstack restore/,
    );
    const good = await run(
      process.execPath,
      [...cli, "--backup", backupId, "--project", otherProject, "--prefix", "c_", "--no-throttle"],
      { env },
    );
    assert.match(good.stdout, /restored 6 documents of notes into .*\/c_notes/);
    assert.equal((await dump(other, ["c_notes", "c_tags"])).size, 7);
  });
});

async function manifestReadTime(): Promise<string> {
  const [text] = await bucket.file(`backups/${backupId}/manifest.json`).download();
  return (JSON.parse(text.toString()) as { read_time_iso: string }).read_time_iso;
}
