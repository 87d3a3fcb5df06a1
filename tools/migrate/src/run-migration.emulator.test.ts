import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Firestore } from "@google-cloud/firestore";
import { testProjectId } from "@syncstack/shared/testing";
import { readCheckpoint } from "./checkpoint.ts";
import { loadTransform } from "./load-transform.ts";
import {
  captureIo,
  docId,
  migrationFixture,
  readAll,
  seed,
  testOptions,
} from "./migration-test-setup.ts";
import { runMigration } from "./run-migration.ts";

const projectId = testProjectId();
const fixtures = join(import.meta.dirname, "fixtures");
const fixture = migrationFixture(projectId);
const { db } = fixture;

describe("runMigration", () => {
  test("copies every document page by page under the same id, leaving the source", async () => {
    await seed(db, "notes", 1_234);
    const io = captureIo();
    const result = await runMigration(
      db,
      testOptions(fixture.dir(), { from: "notes", to: "notes_v2" }),
      io,
    );

    assert.equal(result.state, "complete");
    assert.deepEqual(
      { ...result.counts, retries: 0 },
      {
        read: 1_234,
        written: 1_234,
        skipped: 0,
        failed: 0,
        nested: 0,
        deleted: 0,
        retries: 0,
        unchanged: 0,
      },
    );
    const [source, target] = [await readAll(db, "notes"), await readAll(db, "notes_v2")];
    assert.equal(target.size, 1_234);
    assert.deepEqual(target, source);
    assert.match(
      io.text(),
      /notes -> notes_v2: complete in .*\n {2}read +1,234\n {2}written +1,234/,
    );
    const checkpoint = await readCheckpoint(result.checkpointPath ?? "");
    assert.equal(checkpoint?.complete, true);
    assert.equal(checkpoint?.after?.id, docId(1_233));
  });

  test("applies a transform module to every document", async () => {
    await seed(db, "notes", 250);
    const transform = await loadTransform(join(fixtures, "add-version.ts"), fixture.dir());
    const options = testOptions(fixture.dir(), { from: "notes", to: "notes_v2", transform });
    const result = await runMigration(db, options, captureIo());

    assert.equal(result.counts.written, 250);
    const target = await readAll(db, "notes_v2");
    assert.equal(target.size, 250);
    assert.deepEqual(target.get(docId(42)), {
      n: 42n,
      title: "document 42",
      schema_version: 2n,
      migrated_from: docId(42),
    });
  });

  test("transforms a collection in place when --to is --from", async () => {
    await seed(db, "notes", 120);
    const transform = await loadTransform(join(fixtures, "default-export.mjs"), fixture.dir());
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "notes",
      transform,
      pageSize: 50,
    });
    const result = await runMigration(db, options, captureIo());

    assert.equal(result.counts.written, 120);
    const notes = await readAll(db, "notes");
    assert.equal(notes.size, 120);
    for (const [id, data] of notes)
      assert.deepEqual(data, { n: data.n, title: data.title, js: true, id });
  });

  test("records each failing document with its reason and migrates the rest", async () => {
    await seed(db, "notes", 100);
    const transform = await loadTransform(join(fixtures, "fail-some.ts"), fixture.dir());
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "out",
      transform,
      pageSize: 30,
    });
    const io = captureIo();
    const result = await runMigration(db, options, io);

    // Per ten documents: 3 throws, 5 a string, 6 an array, 9 an undefined field; 7 skipped.
    assert.deepEqual(
      {
        read: result.counts.read,
        written: result.counts.written,
        skipped: result.counts.skipped,
        failed: result.counts.failed,
      },
      { read: 100, written: 50, skipped: 10, failed: 40 },
    );
    const target = await readAll(db, "out");
    assert.equal(target.size, 50);
    assert.deepEqual(target.get(docId(11)), { n: 11n, title: "document 11", ok: true });
    assert.equal(target.has(docId(17)), false);

    assert.equal(result.reportPath, options.reportPath);
    const lines = (await readFile(options.reportPath, "utf8"))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.equal(lines.length, 40);
    const byId = new Map(lines.map((line) => [line.id, line.reason]));
    assert.match(byId.get(docId(13)), /^transform threw: Error: cannot migrate n=13$/);
    assert.match(byId.get(docId(15)), /^transform returned a string .*not an object/);
    assert.match(byId.get(docId(16)), /^transform returned an array, not an object/);
    assert.match(byId.get(docId(19)), /^invalid data: .*undefined.*broken/s);
    assert.match(io.text(), /failed +40 +reasons in .*failures\.ndjson/);
  });

  test("a dry run reads and transforms everything and writes nothing", async () => {
    await seed(db, "notes", 100);
    const transform = await loadTransform(join(fixtures, "fail-some.ts"), fixture.dir());
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "out",
      transform,
      dryRun: true,
      deleteSource: true,
    });
    const io = captureIo();
    const result = await runMigration(db, options, io);

    assert.equal(result.state, "complete");
    assert.deepEqual(
      [result.counts.read, result.counts.written, result.counts.skipped, result.counts.failed],
      [100, 50, 10, 40],
    );
    assert.equal((await db.collection("out").count().get()).data().count, 0n);
    assert.equal((await db.collection("notes").count().get()).data().count, 100n);
    assert.equal(await readCheckpoint(options.checkpointPath), undefined);
    assert.match(options.reportPath, /dry-run-failures\.ndjson$/);
    assert.equal((await readFile(options.reportPath, "utf8")).trim().split("\n").length, 40);
    assert.match(
      io.text(),
      /dry run complete .*nothing written\n.*\n {2}written +50 +would be written/,
    );
  });

  test("re-running a completed migration changes nothing", async () => {
    await seed(db, "notes", 300);
    const options = testOptions(fixture.dir(), { from: "notes", to: "out" });
    await runMigration(db, options, captureIo());
    const before = await updateTimes(db, "out");
    await db.collection("notes").doc(docId(1)).update({ title: "changed after the migration" });

    for (const resume of [false, true]) {
      const io = captureIo();
      const again = await runMigration(db, { ...options, resume }, io);
      assert.equal(again.state, "already-complete");
      assert.equal(again.counts.written, 300);
      assert.match(io.text(), /already complete .*nothing to do/);
    }
    assert.deepEqual(await updateTimes(db, "out"), before);
  });

  test("an interrupted run resumes after its last finished page without rewriting it", async () => {
    await seed(db, "notes", 1_000);
    const stop = new AbortController();
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "out",
      pageSize: 50,
      signal: stop.signal,
    });
    const io = captureIo();
    // Stop once the first pages are checkpointed, as Ctrl-C would.
    const watch = setInterval(() => {
      void readCheckpoint(options.checkpointPath).then((c) => {
        if ((c?.counts.read ?? 0) >= 200) stop.abort();
      });
    }, 5);
    const first = await runMigration(db, options, io).finally(() => clearInterval(watch));
    assert.equal(first.state, "interrupted");
    assert.ok(first.counts.read >= 200 && first.counts.read < 1_000, `read ${first.counts.read}`);
    assert.match(io.text(), /interrupted .*continue with --resume/);
    const checkpoint = await readCheckpoint(options.checkpointPath);
    const doneId = checkpoint?.after?.id ?? "";
    const finished = await updateTimes(db, "out", doneId);
    assert.equal(finished.size, first.counts.read);

    await assert.rejects(runMigration(db, { ...options, signal: undefined }, captureIo()), {
      name: "AppError",
      message: /interrupted run left the checkpoint .*pass --resume/,
    });
    const resumed = await runMigration(
      db,
      { ...options, signal: undefined, resume: true },
      captureIo(),
    );
    assert.equal(resumed.state, "complete");
    assert.equal(resumed.counts.read, 1_000);
    assert.equal(resumed.runRead, 1_000 - first.counts.read);
    assert.deepEqual(await readAll(db, "out"), await readAll(db, "notes"));
    const after = await updateTimes(db, "out", doneId);
    assert.deepEqual(
      after,
      finished,
      "documents finished before the interruption are not rewritten",
    );
  });
});

/** Update times of a collection's documents (up to and including `upTo` when given). */
async function updateTimes(db: Firestore, collection: string, upTo?: string) {
  const snapshot = await db.collection(collection).get();
  return new Map(
    snapshot.docs
      .filter((doc) => upTo === undefined || doc.id <= upTo)
      .map((doc) => [doc.id, doc.updateTime.toDate().toISOString() + doc.updateTime.nanoseconds]),
  );
}
