import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, beforeEach, describe, test } from "node:test";
import { promisify } from "node:util";
import { Timestamp } from "@google-cloud/firestore";
import { defaultBucketNames } from "@syncstack/shared";
import {
  resetFirestore,
  type TestRequest,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import { newBackupId } from "./backup-records.ts";
import { backupTopics, configureBackup, startBackup } from "./testing/backup-fixture.ts";

const projectId = testProjectId();
const backup = await startBackup(projectId, { topics: backupTopics });
const ctx = backup.context;
const db = ctx.firestore;
const bucketName = defaultBucketNames(projectId).backups;
const bucket = ctx.storage.bucket(bucketName);
const admin: TestRequest = { uid: "root", claims: { admin: true } };
const patchConfig = (body: unknown) =>
  backup.request("/v1/backups/config", { ...admin, method: "PATCH", body });
const run = promisify(execFile);
const env = { ...process.env, GOOGLE_CLOUD_PROJECT: projectId, LOG_LEVEL: "ERROR" };
const cli = (...args: string[]) =>
  run(process.execPath, ["--conditions=source", "services/backup/src/backup-cli.ts", ...args], {
    env,
  }).then(
    (done) => ({ code: 0, stdout: done.stdout, stderr: done.stderr }),
    (failed: { code: number; stdout: string; stderr: string }) => failed,
  );

after(() => backup.close());
beforeEach(async () => {
  await resetFirestore(projectId);
  await bucket.deleteFiles({ force: true });
});

describe("admin routes and the backup CLI", () => {
  test("every admin route is 401 without a token and 403 without the admin claim", async () => {
    const routes: [string, string][] = [
      ["GET", "/v1/backups"],
      ["POST", "/v1/backups"],
      ["GET", "/v1/backups/config"],
      ["PATCH", "/v1/backups/config"],
      ["GET", "/v1/backups/20261203T180544307Z-446fc0"],
    ];
    for (const [method, path] of routes) {
      for (const [caller, status] of [
        [{ uid: null }, 401],
        [{ uid: "alice" }, 403],
      ] as const) {
        const response = await backup.request(path, {
          ...caller,
          method,
          body: method === "GET" ? undefined : {},
        });
        assert.equal(response.status, status, `${method} ${path}`);
      }
    }
    assert.equal((await backup.get("/v1/backups?limit=3", admin)).status, 400);
  });

  test("config: missing is a 404; a patch is validated whole, naming the field; an unknown field is refused", async () => {
    assert.equal((await backup.get("/v1/backups/config", admin)).status, 404);
    const missing = await patchConfig({ enabled: true });
    assert.equal(missing.status, 400);
    assert.match(await missing.text(), /collections is required/);
    const unknown = await patchConfig({ retention: 3 });
    assert.match(await unknown.text(), /unknown field: retention/);
    const bad = await patchConfig({
      enabled: true,
      collections: ["a/b"],
      retention_days: -1,
    });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /collections\.0: must be a collection id.*retention_days/);
    const made = await patchConfig({
      enabled: true,
      collections: ["notes"],
    });
    assert.equal(made.status, 200);
    assert.deepEqual(await made.json(), {
      enabled: true,
      collections: ["notes"],
      storage_bucket: bucketName,
      retention_days: 30,
      state: "enabled",
      problem: null,
    });
    await patchConfig({ retention_days: 7 });
    const read = (await (await backup.get("/v1/backups/config", admin)).json()) as {
      retention_days: number;
      collections: string[];
    };
    assert.deepEqual([read.retention_days, read.collections], [7, ["notes"]]);
    assert.equal((await db.doc("config/backup").get()).get("retention_days"), 7);
  });

  test("the CLI reads and sets config/backup, refusing a bad value naming the field", async () => {
    const set = await cli("config", "--set", "enabled=true", "--set", "collections=notes,tags");
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual((JSON.parse(set.stdout) as { collections: string[] }).collections, [
      "notes",
      "tags",
    ]);
    const bad = await cli("config", "--set", "retention_days=soon");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--set retention_days: must be a number of days/);
    const invalid = await cli("config", "--set", "storage_bucket=Not_A_Bucket!");
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /storage_bucket: must be a bucket name/);
    const read = await cli("config");
    assert.equal((JSON.parse(read.stdout) as { state: string }).state, "enabled");
  });

  test("a manual backup requested over HTTP is followed to its end; the listing marks one without a record", async () => {
    await db.doc("notes/n1").set({ title: "hi" });
    await configureBackup(db, { enabled: true, collections: ["notes"], retention_days: 30 });
    const requested = await backup.post("/v1/backups", {}, admin);
    assert.equal(requested.status, 202);
    const { id } = (await requested.json()) as { id: string };
    const done = await waitFor(
      "the requested backup to complete",
      async () => {
        const state = (await (await backup.get(`/v1/backups/${id}`, admin)).json()) as {
          status: string;
          document_count: number;
        };
        return state.status === "completed" ? state : undefined;
      },
      30_000,
    );
    assert.equal(done.document_count, 1);

    // A crash before its record: objects in the bucket and nothing in Firestore.
    const lost = newBackupId(new Date(Date.now() - 60_000));
    await bucket
      .file(`backups/${lost}/collections/notes.ndjson.gz`)
      .save("x", { resumable: false });
    await db.doc("backups/skipped-one").set({
      status: "skipped",
      reason: "disabled",
      created_at: Timestamp.now(),
    });
    const listing = (await (await backup.get("/v1/backups", admin)).json()) as {
      backups: { id: string; status: string; has_record: boolean; bytes: number }[];
    };
    const byId = new Map(listing.backups.map((b) => [b.id, b]));
    assert.deepEqual([byId.get(id)?.status, byId.get(id)?.has_record], ["completed", true]);
    assert.ok((byId.get(id)?.bytes ?? 0) > 0);
    assert.deepEqual(
      [byId.get(lost)?.status, byId.get(lost)?.has_record, byId.get(lost)?.bytes],
      ["incomplete", false, 1],
    );
    assert.equal(byId.get("skipped-one")?.status, "skipped");
    const printed = await cli("list");
    assert.match(printed.stdout, new RegExp(`^${lost}  incomplete  .*  1 bytes  no record$`, "m"));
    assert.match(printed.stdout, new RegExp(`^${id}  completed  .*1 documents \\(notes 1\\)`, "m"));
    assert.equal((await backup.get("/v1/backups/20200101T000000000Z-000000", admin)).status, 404);
  });

  test("./syncstack backup --wait prints the outcome; a failed backup exits 1", async () => {
    await db.doc("notes/n1").set({ title: "hi" });
    await configureBackup(db, { enabled: true, collections: ["notes"], retention_days: 30 });
    const ok = await cli("--wait", "--timeout", "60");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      /^backup \S+ completed: 1 documents, \d+ bytes in 2 objects, \d+\.\d s$/m,
    );
    await configureBackup(db, { enabled: true, collections: [] });
    const failed = await cli("--wait", "--timeout", "60");
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /^backup \S+ failed: config\/backup is invalid: collections/m);
    const bad = await cli("list", "--wait");
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--wait is not an option of backup list[\s\S]*usage: \.\/syncstack backup/,
    );
  });
});
