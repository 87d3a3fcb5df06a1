import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { testProjectId, waitFor } from "@syncstack/shared/testing";
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
import { parseWhere, type WhereClause } from "./parse-where.ts";
import { runMigration } from "./run-migration.ts";

const projectId = testProjectId();
const fixture = migrationFixture(projectId);
const { db } = fixture;

function where(...texts: string[]): WhereClause[] {
  return texts.map((text) => parseWhere(text) as WhereClause);
}

describe("--where", () => {
  test("copies only the documents that match equality filters", async () => {
    await seed(db, "notes", 200, (n) => ({
      n,
      kind: n % 4 === 0 ? "draft" : "final",
      tags: [`t${n % 3}`],
    }));
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "drafts",
      where: where("kind == draft", 'tags array-contains-any ["t0","t1"]'),
      pageSize: 7,
    });
    const result = await runMigration(db, options, captureIo());

    const expected = [...Array(200).keys()].filter((n) => n % 4 === 0 && n % 3 !== 2).map(docId);
    assert.equal(result.counts.read, expected.length);
    assert.deepEqual([...(await readAll(db, "drafts")).keys()].sort(), expected);
  });

  test("pages and resumes by an inequality field, which Firestore orders by first", async () => {
    // Ids and n run in opposite directions, so paging by id alone would go wrong.
    await seed(db, "notes", 600, (n) => ({ n: 600 - n }));
    const stop = new AbortController();
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "big",
      where: where("n > 100", "n <= 500"),
      // 20 pages a query at first: the 400 documents take several queries.
      pageSize: 10,
      signal: stop.signal,
    });
    const watch = setInterval(() => {
      void readCheckpoint(options.checkpointPath).then((c) => c && stop.abort());
    }, 5);
    const first = await runMigration(db, options, captureIo()).finally(() => clearInterval(watch));
    assert.equal(first.state, "interrupted");
    const checkpoint = await readCheckpoint(options.checkpointPath);
    assert.deepEqual(checkpoint?.after?.values.length, 1, "the cursor keeps the value of n");

    const resumed = await runMigration(
      db,
      { ...options, signal: undefined, resume: true },
      captureIo(),
    );
    assert.equal(resumed.state, "complete");
    assert.equal(resumed.counts.read, 400);
    const copied = [...(await readAll(db, "big")).values()].map((data) => Number(data.n));
    assert.deepEqual(
      copied.sort((a, b) => a - b),
      [...Array(400).keys()].map((i) => i + 101),
    );
  });
});

describe("--delete-source", () => {
  test("deletes each source document once its copy is written, keeping skipped ones", async () => {
    await seed(db, "notes", 60);
    const transform = await loadTransform(
      join(import.meta.dirname, "fixtures", "fail-some.ts"),
      fixture.dir(),
    );
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "archive",
      transform,
      deleteSource: true,
      pageSize: 25,
    });
    const io = captureIo();
    const result = await runMigration(db, options, io);

    assert.deepEqual(
      [result.counts.written, result.counts.deleted, result.counts.skipped, result.counts.failed],
      [30, 30, 6, 24],
    );
    const [left, archive] = [await readAll(db, "notes"), await readAll(db, "archive")];
    assert.equal(archive.size, 30);
    assert.equal(left.size, 30, "failed and skipped documents stay in the source");
    for (const id of archive.keys()) assert.equal(left.has(id), false);
    assert.match(io.text(), /deleted +30 +source documents deleted/);
  });
});

describe("write retries", () => {
  // The emulator locks a document a transaction has read; a commit writing it waits for the
  // lock, past the deadline the migration gives it (a transient failure, like ABORTED).
  async function holdLock(path: string): Promise<() => Promise<void>> {
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ref = db.doc(path);
    let locked = false;
    const transaction = db.runTransaction(
      async (tx) => {
        await tx.get(ref);
        locked = true;
        await released;
      },
      { maxAttempts: 1 },
    );
    await waitFor("the transaction's lock", () => (locked ? true : undefined));
    return async () => {
      release();
      await transaction.catch(() => {});
    };
  }

  test("retries a write that contention aborts, with backoff, until it succeeds", async () => {
    await seed(db, "notes", 50);
    await db.doc(`out/${docId(7)}`).set({ old: true });
    const release = await holdLock(`out/${docId(7)}`);
    const running = runMigration(
      db,
      testOptions(fixture.dir(), { from: "notes", to: "out", deadlineMs: 1_000 }),
      captureIo(),
    );
    // Let the write hit the lock at least once before the transaction lets go.
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await release();
    const result = await running;

    assert.equal(result.counts.failed, 0);
    assert.ok(result.counts.retries >= 1, `retries: ${result.counts.retries}`);
    assert.deepEqual((await db.doc(`out/${docId(7)}`).get()).data(), {
      n: 7n,
      title: "document 7",
    });
  });

  test("records a write that still fails after its last attempt", async () => {
    await seed(db, "notes", 10);
    await db.doc(`out/${docId(3)}`).set({ old: true });
    const release = await holdLock(`out/${docId(3)}`);
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "out",
      maxWriteAttempts: 1,
      deadlineMs: 1_000,
    });
    const result = await runMigration(db, options, captureIo()).finally(release);

    // A commit is atomic: the locked document fails the documents that still share its
    // commit after the failed commits are split in halves (the emulator keeps a commit that
    // waits for a lock holding its other documents); the other half is written.
    assert.equal(result.counts.written + result.counts.failed, 10);
    assert.ok(result.counts.written >= 5, `written: ${result.counts.written}`);
    const lines = (await readFile(options.reportPath, "utf8")).trim().split("\n");
    const failed = lines.map((line) => JSON.parse(line) as { id: string; reason: string });
    assert.equal(failed.length, result.counts.failed);
    assert.ok(
      failed.some((f) => f.id === docId(3)),
      "the locked document is reported",
    );
    for (const f of failed) {
      assert.deepEqual(Object.keys(f), ["id", "reason"]);
      assert.match(f.reason, /^firestore\.commit tool timed out/);
      assert.ok(f.id < docId(5), `${f.id} shared a commit with the locked document`);
    }
  });
});
