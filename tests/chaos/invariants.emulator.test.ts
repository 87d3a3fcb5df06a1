import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Firestore } from "@google-cloud/firestore";
import { type CollectionSpec, collections } from "@syncstack/shared";
import { emulatorHosts, resetFirestore, testProjectId } from "@syncstack/shared/testing";
import { pendingQueues, queuesDrained } from "./invariants.ts";

const projectId = testProjectId();
const db = new Firestore({ projectId, host: emulatorHosts().firestore, ssl: false });
before(() => resetFirestore(projectId));
after(() => db.terminate());

test("the invariants count what every queue of the collections registry still holds", async () => {
  const added: CollectionSpec = {
    name: "_new_queue",
    owners: ["sync"],
    internal: true,
    description: "a queue this test adds",
    drains: true,
  };
  await db.collection("_outbox").doc("e1").set({ events: "[]" });
  await db.collection("_new_queue").doc("q1").set({});
  await db.collection("_new_queue").doc("q2").set({});
  assert.deepEqual(await pendingQueues(db), { _outbox: 1, _activity_deltas: 0 });
  assert.deepEqual(await pendingQueues(db, [...collections, added]), {
    _outbox: 1,
    _activity_deltas: 0,
    _new_queue: 2,
  });
});

test("the queues of the registry, one added included, must all drain", async () => {
  await resetFirestore(projectId);
  const added: CollectionSpec = {
    name: "_other_queue",
    owners: ["analytics"],
    internal: true,
    description: "a queue this test adds",
    drains: true,
  };
  await queuesDrained(db, 1_000, [...collections, added]);
  await db.collection("_other_queue").doc("q").set({});
  await queuesDrained(db, 1_000);
  await assert.rejects(queuesDrained(db, 1_000, [...collections, added]), /_other_queue":1/);
});
