import assert from "node:assert/strict";
import { join } from "node:path";
import { beforeEach, describe, test } from "node:test";
import { type DocumentReference, Timestamp } from "@google-cloud/firestore";
import { testProjectId } from "@syncstack/shared/testing";
import { loadTransform } from "./load-transform.ts";
import { captureIo, migrationFixture, testOptions } from "./migration-test-setup.ts";
import { runMigration } from "./run-migration.ts";

const projectId = testProjectId();
const fixture = migrationFixture(projectId);
const { db } = fixture;
beforeEach(async () => {
  // notes/<id> with comments (more than a page of them) that have likes, and tags.
  const batch = db.bulkWriter({ throttling: false });
  for (let n = 0; n < 10; n++) {
    const note = db.collection("notes").doc(`n${n}`);
    void batch.set(note, { n });
    if (n % 2 === 1) continue;
    for (let c = 0; c < 12; c++) {
      const comment = note.collection("comments").doc(`c${c}`);
      void batch.set(comment, { c, at: new Timestamp(1_700_000_000 + c, 5_000) });
      if (c < 2) void batch.set(comment.collection("likes").doc("u1"), { by: "u1" });
    }
    void batch.set(note.collection("tags").doc("t"), { tag: "x" });
  }
  await batch.close();
});

/** Paths of every document under `collection`, relative to it, at any depth. */
async function tree(collection: string): Promise<Map<string, unknown>> {
  const found = new Map<string, unknown>();
  const walk = async (ref: DocumentReference, prefix: string): Promise<void> => {
    for (const sub of await ref.listCollections()) {
      for (const doc of (await sub.get()).docs) {
        found.set(`${prefix}/${sub.id}/${doc.id}`, doc.data());
        await walk(doc.ref, `${prefix}/${sub.id}/${doc.id}`);
      }
    }
  };
  for (const doc of (await db.collection(collection).get()).docs) {
    found.set(doc.id, doc.data());
    await walk(doc.ref, doc.id);
  }
  return found;
}

describe("subcollections", () => {
  test("--recursive copies subcollections at every depth to the same paths", async () => {
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "copy",
      recursive: true,
      pageSize: 5,
    });
    const io = captureIo();
    const result = await runMigration(db, options, io);

    // 5 notes with 12 comments, 2 likes and a tag each: 5 * (12 + 2 + 1) = 75 nested documents.
    assert.deepEqual([result.counts.written, result.counts.nested], [10, 75]);
    const source = await tree("notes");
    assert.equal(source.size, 85);
    assert.deepEqual(await tree("copy"), source);
    const like = await db.doc("copy/n4/comments/c1/likes/u1").get();
    assert.deepEqual(like.data(), { by: "u1" });
    assert.match(io.text(), /nested +75 +subcollection documents copied/);
  });

  test("without --recursive only the documents themselves are copied", async () => {
    const result = await runMigration(
      db,
      testOptions(fixture.dir(), { from: "notes", to: "copy" }),
      captureIo(),
    );
    assert.deepEqual([result.counts.written, result.counts.nested], [10, 0]);
    assert.equal((await tree("copy")).size, 10);
  });

  test("a document the transform skips keeps its subcollections out too", async () => {
    const transform = await loadTransform(
      join(import.meta.dirname, "fixtures", "fail-some.ts"),
      fixture.dir(),
    );
    // fail-some skips n ending in 7 and fails n ending in 3, 5, 6 and 9.
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "copy",
      recursive: true,
      transform,
    });
    const result = await runMigration(db, options, captureIo());

    assert.deepEqual(
      [result.counts.written, result.counts.skipped, result.counts.failed],
      [5, 1, 4],
    );
    const copied = [...(await tree("copy")).keys()].filter((path) => !path.includes("/"));
    assert.deepEqual(copied.sort(), ["n0", "n1", "n2", "n4", "n8"]);
    assert.equal((await tree("copy")).size, 5 + 4 * 15, "subtrees of n0, n2, n4 and n8 only");
  });

  test("--delete-source with --recursive moves whole subtrees", async () => {
    const before = await tree("notes");
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "moved",
      recursive: true,
      deleteSource: true,
    });
    const result = await runMigration(db, options, captureIo());

    assert.deepEqual(
      [result.counts.written, result.counts.deleted, result.counts.failed],
      [10, 10, 0],
    );
    assert.deepEqual(await tree("moved"), before);
    assert.equal((await tree("notes")).size, 0);
    assert.deepEqual(await db.doc("notes/n0").collection("comments").listDocuments(), []);
  });

  test("a dry run walks subcollections and writes nothing", async () => {
    const options = testOptions(fixture.dir(), {
      from: "notes",
      to: "copy",
      recursive: true,
      dryRun: true,
    });
    const result = await runMigration(db, options, captureIo());
    assert.deepEqual([result.counts.written, result.counts.nested], [10, 75]);
    assert.equal((await tree("copy")).size, 0);
  });
});
