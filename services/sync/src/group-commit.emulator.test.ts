import assert from "node:assert/strict";
import { after, beforeEach, test } from "node:test";
import { createClients, Publisher } from "@syncstack/shared";
import { memoryLogger, resetFirestore, testConfig, testProjectId } from "@syncstack/shared/testing";
import { GroupCommit, type GroupCommitOptions } from "./group-commit.ts";
import { Outbox, outboxCollection, type PendingEvent } from "./outbox.ts";

const projectId = testProjectId();
const { firestore: db, pubsub } = createClients(testConfig(projectId));
const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
const outbox = new Outbox(db, publisher, memoryLogger(projectId).logger, { deadlineMs: 10_000 });
// Nothing is published here, so every entry stays for the tests to read.
outbox.published = async () => {};
after(async () => {
  await publisher.close();
  await db.terminate();
  await pubsub.close();
});
beforeEach(() => resetFirestore(projectId));

const eventOf = (document: string): PendingEvent => ({
  collection: "things",
  document,
  op: "create",
  version: 1,
  source: "test",
  uid: "alice",
});

/** The documents whose events each outbox entry holds. */
async function outboxEntries(): Promise<string[][]> {
  const entries = await db.collection(outboxCollection).get();
  return entries.docs.map((entry) =>
    (JSON.parse(entry.get("events") as string) as PendingEvent[]).map((e) => e.document),
  );
}

function commitAll(commits: GroupCommit, names: string[]) {
  return Promise.allSettled(
    names.map((name) =>
      commits.commit(
        `things/${name}`,
        1,
        (batch) => batch.create(db.doc(`things/${name}`), { n: 1 }),
        eventOf(name),
      ),
    ),
  );
}

test("concurrent changes share a commit and one outbox entry holding their events", async () => {
  const commits = new GroupCommit(db, { deadlineMs: 10_000, maxInFlight: 1, outbox });
  const names = Array.from({ length: 20 }, (_, i) => `t${i}`);
  const results = await commitAll(commits, names);
  assert.ok(results.every((r) => r.status === "fulfilled"));
  const entries = await outboxEntries();
  assert.ok(entries.length < 20, `changes shared commits (${entries.length} for 20 changes)`);
  assert.deepEqual(entries.flat().sort(), [...names].sort(), "each event held once");
  for (const [i, result] of results.entries()) {
    if (result.status !== "fulfilled") continue;
    const entry = await result.value.entry.get();
    assert.match(entry.get("events") as string, new RegExp(`"${names[i]}"`));
  }
});

test("one conflict in a shared commit fails only its own change", async () => {
  await db.doc("things/taken").set({ n: 0 });
  const commits = new GroupCommit(db, { deadlineMs: 10_000, maxInFlight: 1, outbox });
  const names = Array.from({ length: 10 }, (_, i) => (i === 7 ? "taken" : `t${i}`));
  const results = await commitAll(commits, names);
  const rejected = results.flatMap((r, i) =>
    r.status === "rejected" ? [[names[i], (r.reason as { code?: number }).code]] : [],
  );
  assert.deepEqual(rejected, [["taken", 6]]);
  const written = await db.collection("things").where("n", "==", 1).get();
  assert.equal(written.size, 9);
  assert.deepEqual(
    (await outboxEntries()).flat().sort(),
    names.filter((name) => name !== "taken").sort(),
    "the outbox holds the events of the changes that committed, and only those",
  );
});

test("two changes to one document never share a commit", async () => {
  const commits = new GroupCommit(db, { deadlineMs: 10_000, maxInFlight: 1, outbox });
  const ref = db.doc("things/one");
  const [first, second] = await Promise.all([
    commits.commit(
      ref.path,
      1,
      (batch) => batch.set(ref, { a: 1 }, { merge: true }),
      eventOf("one"),
    ),
    commits.commit(ref.path, 1, (batch) => batch.set(ref, { b: 2 }, { merge: true }), {
      ...eventOf("one"),
      version: 2,
    }),
  ]);
  assert.equal(
    first.writeTime.isEqual(second.writeTime),
    false,
    "each change had a commit of its own",
  );
  assert.deepEqual((await ref.get()).data(), { a: 1, b: 2 });
});

test("each commit hands its committed group to the outbox once, with the events of its entry", async () => {
  const handed: string[][] = [];
  const recording: GroupCommitOptions["outbox"] = {
    add: (batch, events) => outbox.add(batch, events),
    committed: (entry, events, committedAt) => {
      handed.push(events.map((event) => event.document));
      return outbox.committed(entry, events, committedAt);
    },
  };
  const commits = new GroupCommit(db, { deadlineMs: 10_000, maxInFlight: 1, outbox: recording });
  const names = Array.from({ length: 12 }, (_, i) => `h${i}`);
  const results = await commitAll(commits, names);
  assert.ok(results.every((r) => r.status === "fulfilled"));
  const sorted = (groups: string[][]) => groups.map((group) => [...group].sort().join()).sort();
  assert.deepEqual(sorted(handed), sorted(await outboxEntries()), "one handover per entry");
  for (const result of results) {
    if (result.status === "fulfilled") await result.value.handedOver;
  }
});
