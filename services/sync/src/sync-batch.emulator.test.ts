import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Firestore } from "@google-cloud/firestore";
import { type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import type { Collector } from "@syncstack/shared/testing";
import { eventsFor, startSync } from "./testing/sync-fixture.ts";

let sync: Awaited<ReturnType<typeof startSync>>;
let db: Firestore;
let events: Collector;

before(async () => {
  sync = await startSync();
  db = sync.context.firestore;
  events = sync.collected(realtimeUpdates);
});
after(() => sync.close());
beforeEach(() => sync.resetFirestore());

describe("POST /v1/sync:batch", () => {
  test("applies each change on its own and reports it, telling permanent from temporary failures", async () => {
    const response = await sync.post("/v1/sync:batch", {
      changes: [
        { collection: "notes", document: "b1", data: { n: 1 } },
        { collection: "notes", document: "b/1", data: {} },
        { collection: "users", document: "x", data: {} },
        { collection: "notes", document: "b1", data: { m: 2 } },
        { collection: "notes", document: "b2", data: { n: 3 }, expected_version: 4 },
      ],
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      applied: number;
      failed: number;
      results: { status: number; retryable?: boolean; result?: { version: number } }[];
    };
    assert.deepEqual(
      body.results.map((r) => r.status),
      [200, 400, 403, 200, 409],
    );
    assert.deepEqual(
      body.results.map((r) => r.retryable),
      [undefined, false, false, undefined, false],
    );
    assert.equal(body.results[3]?.result?.version, 2, "changes to one document apply in order");
    assert.equal(body.applied, 2);
    assert.deepEqual((await db.doc("notes/b1").get()).get("data"), { n: 1, m: 2 });
    assert.equal((await db.doc("notes/b2").get()).exists, false);
    assert.equal(
      (await sync.post("/v1/sync:batch", { changes: new Array(501).fill({}) })).status,
      400,
    );
    assert.equal((await sync.post("/v1/sync:batch", { changes: "no" })).status, 400);
  });

  test("an unknown field is refused by name: in an item that item alone, beside changes the whole batch", async () => {
    const response = await sync.post("/v1/sync:batch", {
      changes: [
        { collection: "notes", document: "s1", data: { n: 1 } },
        { collection: "notes", document: "s2", data: { n: 2 }, expected_verison: 3 },
      ],
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      results: { status: number; error?: { message: string } }[];
    };
    assert.deepEqual(
      body.results.map((r) => r.status),
      [200, 400],
    );
    assert.equal(body.results[1]?.error?.message, "unknown field: expected_verison");
    assert.equal((await db.doc("notes/s2").get()).exists, false, "the refused item wrote nothing");

    const whole = await sync.post("/v1/sync:batch", {
      changes: [{ collection: "notes", document: "s3", data: {} }],
      atomic: true,
    });
    assert.equal(whole.status, 400);
    const { error } = (await whole.json()) as { error: { message: string } };
    assert.equal(error.message, "unknown field: atomic");
    assert.equal((await db.doc("notes/s3").get()).exists, false, "a refused batch writes nothing");
  });

  test("a retried batch with the same Idempotency-Key applies each change once and answers the same", async () => {
    const batch = {
      changes: [
        { collection: "notes", document: "k1", data: { n: 1 } },
        { collection: "notes", document: "k1", data: { m: 2 } },
        { collection: "notes", document: "k2", data: { n: 3 } },
        { collection: "notes", document: "k/3", data: {} },
      ],
    };
    const headers = { headers: { "idempotency-key": "batch-1" } };
    const first = await sync.post("/v1/sync:batch", batch, headers);
    const firstBody = (await first.json()) as {
      results: { status: number; result?: { version: number } }[];
    };
    assert.deepEqual(
      firstBody.results.map((r) => r.status),
      [200, 200, 200, 400],
    );
    const again = await sync.post("/v1/sync:batch", batch, headers);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), firstBody, "the same answer, versions included");
    assert.equal((await db.doc("notes/k1").get()).get("version"), 2, "not 4");
    assert.equal((await db.doc("notes/k2").get()).get("version"), 1, "not 2");
    await eventsFor(events, "k1", 2);
    await eventsFor(events, "k2", 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(
      events
        .payloads<RealtimeUpdate>()
        .filter((event) => event.document === "k1" || event.document === "k2").length,
      3,
      "one event per applied change",
    );

    const other = await sync.post(
      "/v1/sync:batch",
      { changes: [{ collection: "notes", document: "k1", data: { n: 9 } }] },
      headers,
    );
    const otherBody = (await other.json()) as { results: { status: number }[] };
    assert.equal(otherBody.results[0]?.status, 422, "the key names another batch");
    assert.deepEqual((await db.doc("notes/k1").get()).get("data"), { n: 1, m: 2 });
  });
});
