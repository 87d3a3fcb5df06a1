import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Firestore } from "@google-cloud/firestore";
import { testProjectId } from "@syncstack/shared/testing";
import { startSync } from "./testing/sync-fixture.ts";

const projectId = testProjectId();
let sync: Awaited<ReturnType<typeof startSync>>;
/** Read RPCs the service's Firestore client sent, by method, since the last reset. */
const reads = new Map<string, number>();
const readMethods = new Set(["batchGetDocuments", "runQuery", "runAggregationQuery"]);

/**
 * Counts the service's reads where its Firestore client sends them: every document get,
 * getAll and query of the client library is a `requestStream` call (the emulator itself
 * has no read counter).
 */
function countReads(db: Firestore): void {
  const client = db as unknown as {
    requestStream: (method: string, ...rest: unknown[]) => Promise<unknown>;
  };
  const send = client.requestStream.bind(client);
  client.requestStream = (method, ...rest) => {
    if (readMethods.has(method)) reads.set(method, (reads.get(method) ?? 0) + 1);
    return send(method, ...rest);
  };
}
const readCount = () => [...reads.values()].reduce((sum, count) => sum + count, 0);

before(async () => {
  sync = await startSync({ projectId });
  countReads(sync.context.firestore);
});
after(() => sync.close());
// Each test writes documents of its own: the service remembers what it wrote before a
// reset, and a write from that memory would fail its precondition and read.
beforeEach(async () => {
  await sync.resetFirestore();
  reads.clear();
});

const note = (document: string, data: Record<string, unknown>) => ({
  collection: "notes",
  document,
  data,
  source: "ios",
});

describe("the owner's writes under the access rules", () => {
  test("a create and repeated writes by the owner read nothing", async () => {
    for (const [version, title] of ["a", "b", "c"].entries()) {
      const response = await sync.post("/v1/sync", note("n1", { title }));
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { version: number }).version, version + 1);
    }
    assert.deepEqual(Object.fromEntries(reads), {}, "no get, getAll or query");
    const stored = await sync.context.firestore.doc("notes/n1").get();
    assert.equal(stored.get("created_by"), "alice");
    assert.deepEqual(stored.get("data"), { title: "c" });
  });

  test("a batch of the owner's creates and updates reads nothing", async () => {
    const changes = Array.from({ length: 20 }, (_, n) => note(`b${n % 10}`, { n }));
    const response = await sync.post("/v1/sync:batch", { changes });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { applied: number; failed: number };
    assert.deepEqual({ applied: body.applied, failed: body.failed }, { applied: 20, failed: 0 });
    assert.equal(readCount(), 0);
  });

  test("another user's write to the owner's document is refused without a read", async () => {
    assert.equal((await sync.post("/v1/sync", note("n3", { title: "a" }))).status, 200);
    const response = await sync.post("/v1/sync", note("n3", { title: "b" }), { uid: "mallory" });
    assert.equal(response.status, 404, "answered like a missing document");
    assert.equal(readCount(), 0);
  });

  test("the counter sees a read: a merge patch reads the document it patches", async () => {
    assert.equal((await sync.post("/v1/sync", note("n4", { title: "a" }))).status, 200);
    const response = await sync.request("/v1/documents/notes/n4", {
      method: "PATCH",
      body: { title: "b" },
      headers: { "content-type": "application/merge-patch+json" },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(Object.fromEntries(reads), { batchGetDocuments: 1 });
  });
});
