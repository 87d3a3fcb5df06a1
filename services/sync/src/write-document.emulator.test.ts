import assert from "node:assert/strict";
import { after, beforeEach, test } from "node:test";
import { AccessRules, type Caller, createClients, Publisher } from "@syncstack/shared";
import { memoryLogger, resetFirestore, testConfig, testProjectId } from "@syncstack/shared/testing";
import { Outbox } from "./outbox.ts";
import { DocumentWriter } from "./write-document.ts";

const projectId = testProjectId();
const { firestore: db, pubsub } = createClients(testConfig(projectId));
const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
const outbox = new Outbox(db, publisher, memoryLogger(projectId).logger, { deadlineMs: 10_000 });
// Nothing is published here: the test is about what the writer reads.
outbox.published = async () => {};
after(async () => {
  await publisher.close();
  await db.terminate();
  await pubsub.close();
});
beforeEach(() => resetFirestore(projectId));

/** Counts the writer's reads: it reads only through getAll. */
let reads = 0;
const getAll = db.getAll.bind(db);
db.getAll = ((...refs: Parameters<typeof db.getAll>) => {
  reads++;
  return getAll(...refs);
}) as typeof db.getAll;

const alice: Caller = { uid: "alice", admin: false };
const bob: Caller = { uid: "bob", admin: false };
const writerOf = () =>
  new DocumentWriter(db, {
    deadlineMs: 10_000,
    outbox,
    rules: new AccessRules({ projects: { policy: "members", members_field: "members" } }),
  });
const merge = (collection: string, document: string, data: Record<string, unknown>) => ({
  kind: "merge" as const,
  change: { collection, document, data },
});

test("the owner's writes read nothing: the rules check the state the writer already holds", async () => {
  const writer = writerOf();
  reads = 0;
  await writer.write(merge("notes", "n1", { v: 1 }), { caller: alice });
  for (let v = 2; v <= 5; v++) await writer.write(merge("notes", "n1", { v }), { caller: alice });
  await writer.write(merge("projects", "p1", { members: ["bob"] }), { caller: alice });
  await writer.write(merge("projects", "p1", { note: "hi" }), { caller: bob });
  assert.equal(reads, 0, "no read on the happy path, members included");

  await assert.rejects(writer.write(merge("notes", "n1", { v: 9 }), { caller: bob }), {
    code: "not_found",
  });
  assert.equal(reads, 0, "another user's write is refused from the same state, without a read");
  assert.equal((await db.doc("notes/n1").get()).get("data.v"), 5);
});

test("a writer that has not seen the document reads it once, when its guess fails", async () => {
  await writerOf().write(merge("notes", "n2", { v: 1 }), { caller: alice });
  const fresh = writerOf();
  reads = 0;
  await fresh.write(merge("notes", "n2", { v: 2 }), { caller: alice });
  assert.equal(reads, 1);
  await fresh.write(merge("notes", "n2", { v: 3 }), { caller: alice });
  assert.equal(reads, 1, "and then knows it");
  const other = writerOf();
  await assert.rejects(other.write(merge("notes", "n2", { v: 9 }), { caller: bob }), {
    code: "not_found",
  });
  assert.equal(reads, 2, "a refused guess costs one read");
  assert.equal((await db.doc("notes/n2").get()).get("version"), 3);
});
