import assert from "node:assert/strict";
import { after, beforeEach, test } from "node:test";
import { createClients } from "@syncstack/shared";
import { resetFirestore, testConfig, testProjectId } from "@syncstack/shared/testing";
import { GroupCommit } from "./group-commit.ts";

const projectId = testProjectId();
const { firestore: db, pubsub } = createClients(testConfig(projectId));
after(async () => {
  await db.terminate();
  await pubsub.close();
});
beforeEach(() => resetFirestore(projectId));

test("concurrent commits share a commit, and one conflict fails only its own change", async () => {
  await db.doc("things/taken").set({ n: 0 });
  const commits = new GroupCommit(db, { deadlineMs: 10_000, maxInFlight: 1 });
  const names = Array.from({ length: 20 }, (_, i) => (i === 7 ? "taken" : `t${i}`));
  const results = await Promise.allSettled(
    names.map((name) =>
      commits.commit(`things/${name}`, 1, (batch) =>
        batch.create(db.doc(`things/${name}`), { n: 1 }),
      ),
    ),
  );
  const rejected = results.flatMap((r, i) =>
    r.status === "rejected" ? [[names[i], (r.reason as { code?: number }).code]] : [],
  );
  assert.deepEqual(rejected, [["taken", 6]]);
  const written = await db.collection("things").where("n", "==", 1).get();
  assert.equal(written.size, 19);
  const commitTimes = new Set(
    results.flatMap((r) => (r.status === "fulfilled" ? [r.value.toMillis()] : [])),
  );
  assert.ok(
    commitTimes.size < 19,
    `changes shared commits (${commitTimes.size} commit times for 19 changes)`,
  );
});

test("two changes to one document never share a commit", async () => {
  const commits = new GroupCommit(db, { deadlineMs: 10_000, maxInFlight: 1 });
  const ref = db.doc("things/one");
  const [first, second] = await Promise.all([
    commits.commit(ref.path, 1, (batch) => batch.set(ref, { a: 1 }, { merge: true })),
    commits.commit(ref.path, 1, (batch) => batch.set(ref, { b: 2 }, { merge: true })),
  ]);
  assert.equal(first.isEqual(second), false, "each change had a commit of its own");
  assert.deepEqual((await ref.get()).data(), { a: 1, b: 2 });
});
