import assert from "node:assert/strict";
import { after, beforeEach, describe, test } from "node:test";
import { setTimeout } from "node:timers/promises";
import { Timestamp } from "@google-cloud/firestore";
import { defaultBucketNames } from "@syncstack/shared";
import { resetFirestore, testProjectId } from "@syncstack/shared/testing";
import { acquireLease, leasePath, renewLease } from "./lease.ts";
import { runBackup } from "./run-backup.ts";
import { backupTopics, configureBackup, depsOf, startBackup } from "./testing/backup-fixture.ts";

const projectId = testProjectId();
const backup = await startBackup(projectId, { topics: backupTopics, unsubscribed: true });
const ctx = backup.context;
const deps = depsOf(ctx);
const bucketName = defaultBucketNames(projectId).backups;
const db = ctx.firestore;

after(async () => {
  await deps.exportDb.terminate();
  await backup.close();
});
beforeEach(async () => {
  await resetFirestore(projectId);
  await db.doc("notes/n1").set({ title: "one" });
  await configureBackup(db, {
    enabled: true,
    collections: ["notes"],
    storage_bucket: bucketName,
    retention_days: 30,
  });
});

describe("one backup at a time", () => {
  test("a request while another holder's lease is live is recorded as skipped and exports nothing", async () => {
    await db
      .doc(leasePath)
      .set({ holder: "b-running", expires_at: Timestamp.fromMillis(Date.now() + 60_000) });
    const outcome = await runBackup(deps, "manual");
    assert.equal(outcome.status, "skipped");
    const record = await db.doc(`backups/${outcome.id}`).get();
    assert.equal(record.get("status"), "skipped");
    assert.match(String(record.get("reason")), /backup b-running is running/);
    const [files] = await ctx.storage
      .bucket(bucketName)
      .getFiles({ prefix: `backups/${outcome.id}/` });
    assert.deepEqual(files, []);
    assert.equal(
      (await db.doc(leasePath).get()).get("holder"),
      "b-running",
      "the live lease is left alone",
    );
  });

  test("a second request while a backup runs is skipped, and the lease is released after", async () => {
    let second: Awaited<ReturnType<typeof runBackup>> | undefined;
    // The second request arrives while the first is between its collections, holding the lease.
    const first = await runBackup(
      {
        ...deps,
        afterCollection: async () => {
          second = await runBackup(deps, "automated");
        },
      },
      "manual",
    );
    assert.deepEqual([first.status, second?.status], ["completed", "skipped"]);
    assert.match(String(second?.reason), new RegExp(`backup ${first.id} is running`));
    assert.equal((await db.doc(leasePath).get()).exists, false);
  });

  test("requests arriving together with no lease held start exactly one backup", async () => {
    // The backup that wins holds its lease until the others have answered (or 5 s passed).
    let skipped = 0;
    let othersDone = () => {};
    const others = new Promise<void>((resolve) => (othersDone = resolve));
    const holding = {
      ...deps,
      afterCollection: () => Promise.race([others, setTimeout(5_000, undefined, { ref: false })]),
    };
    const outcomes = await Promise.all(
      Array.from({ length: 4 }, () =>
        runBackup(holding, "automated").then((outcome) => {
          if (outcome.status === "skipped" && ++skipped === 3) othersDone();
          return outcome;
        }),
      ),
    );
    const statuses = outcomes.map((outcome) => outcome.status).sort();
    assert.deepEqual(statuses, ["completed", "skipped", "skipped", "skipped"]);
    assert.equal((await db.doc(leasePath).get()).exists, false);
  });

  test("an expired lease is taken over and its dead holder's backup marked failed with its objects removed", async () => {
    const bucket = ctx.storage.bucket(bucketName);
    await db.doc("backups/b-dead").set({
      status: "in_progress",
      created_at: Timestamp.now(),
      config: { storage_bucket: bucketName },
    });
    await bucket.file("backups/b-dead/collections/notes.ndjson.gz").save("partial");
    await db
      .doc(leasePath)
      .set({ holder: "b-dead", expires_at: Timestamp.fromMillis(Date.now() - 1_000) });
    const outcome = await runBackup(deps, "automated");
    assert.equal(outcome.status, "completed");
    const dead = await db.doc("backups/b-dead").get();
    assert.equal(dead.get("status"), "failed");
    assert.match(String(dead.get("reason")), /lease expired/);
    const [left] = await bucket.getFiles({ prefix: "backups/b-dead/" });
    assert.deepEqual(left, []);
  });

  test("a missing or disabled config/backup records the request as skipped, not an error", async () => {
    await db.doc("config/backup").delete();
    const missing = await runBackup(deps, "automated");
    await configureBackup(db, { enabled: false, collections: ["notes"] });
    const disabled = await runBackup(deps, "automated");
    for (const [outcome, why] of [
      [missing, /does not exist/],
      [disabled, /enabled: false/],
    ] as const) {
      const record = await db.doc(`backups/${outcome.id}`).get();
      assert.equal(record.get("status"), "skipped");
      assert.match(String(record.get("reason")), why);
      assert.ok(record.get("created_at") instanceof Timestamp);
    }
  });

  test("an invalid config/backup fails the request with the reason", async () => {
    await configureBackup(db, { enabled: true, collections: [] });
    const outcome = await runBackup(deps, "manual");
    assert.equal(outcome.status, "failed");
    assert.match(
      String((await db.doc(`backups/${outcome.id}`).get()).get("reason")),
      /collections/,
    );
  });
});

describe("the lease's clock", () => {
  test("a lease is refused until its expiry passes on the clock, then taken over and not renewable by its old holder", async () => {
    let clock = Date.UTC(2030, 0, 1);
    const now = () => clock;
    const acquire = (holder: string) => acquireLease(db, holder, 60_000, 10_000, now);
    assert.deepEqual(await acquire("b-first"), { acquired: true, expired: undefined });
    clock += 59_999;
    const refused = await acquire("b-second");
    assert.equal(refused.acquired, false);
    assert.equal(refused.acquired === false && refused.holder, "b-first");
    clock += 1;
    assert.deepEqual(await acquire("b-second"), { acquired: true, expired: "b-first" });
    assert.equal(await renewLease(db, "b-first", 60_000, 10_000, now), false);
    assert.equal(await renewLease(db, "b-second", 60_000, 10_000, now), true);
    const renewed = (await db.doc(leasePath).get()).get("expires_at") as Timestamp;
    assert.equal(renewed.toMillis(), clock + 60_000, "renewed from the clock's now");
  });
});
