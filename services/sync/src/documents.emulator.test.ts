import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Firestore, Timestamp } from "@google-cloud/firestore";
import { realtimeUpdates, userCreated } from "@syncstack/shared";
import { type Collector, testProjectId } from "@syncstack/shared/testing";
import { encodeCursor } from "./change-feed.ts";
import { eventsFor, startSync } from "./testing/sync-fixture.ts";

const projectId = testProjectId();
let sync: Awaited<ReturnType<typeof startSync>>;
let db: Firestore;
let events: Collector;

before(async () => {
  sync = await startSync({ projectId });
  db = sync.context.firestore;
  events = sync.collected(realtimeUpdates);
});
after(() => sync.close());
beforeEach(() => sync.resetFirestore());

const path = (document: string, collection = "notes") => `/v1/documents/${collection}/${document}`;
const write = (document: string, data: Record<string, unknown>, uid = "alice") =>
  sync.post("/v1/sync", { collection: "notes", document, data }, { uid });
const patch = (document: string, body: unknown, headers: Record<string, string> = {}) =>
  sync.request(path(document), {
    method: "PATCH",
    body: JSON.stringify(body),
    headers: { "content-type": "application/merge-patch+json", ...headers },
  });
const remove = (document: string, init: { uid?: string; headers?: Record<string, string> } = {}) =>
  sync.request(path(document), { method: "DELETE", ...init });

async function feed(uid: string, since?: string) {
  const query = new URLSearchParams({ collection: "notes", ...(since ? { since } : {}) });
  const response = await sync.get(`/v1/changes?${query}`, { uid });
  assert.equal(response.status, 200);
  return (await response.json()) as {
    changes: { document: string; version: number; deleted?: boolean; data?: unknown }[];
    next_cursor: string | null;
  };
}

describe("GET /v1/documents/{collection}/{document}", () => {
  test("answers the document with its version as a strong ETag, and 304 while it is current", async () => {
    await write("g1", { title: "hi" });
    const response = await sync.get(path("g1"));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("etag"), '"1"');
    const body = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(
      { ...body, created_at: undefined, updated_at: undefined },
      {
        collection: "notes",
        document: "g1",
        data: { title: "hi" },
        version: 1,
        created_by: "alice",
        sync_source: "unknown",
        created_at: undefined,
        updated_at: undefined,
      },
    );
    const stored = await db.doc("notes/g1").get();
    assert.equal(body.updated_at, (stored.get("updated_at") as Timestamp).toDate().toISOString());

    const cached = await sync.get(path("g1"), { headers: { "if-none-match": '"1"' } });
    assert.equal(cached.status, 304);
    assert.equal(await cached.text(), "");
    await write("g1", { title: "changed" });
    const changed = await sync.get(path("g1"), { headers: { "if-none-match": '"1"' } });
    assert.equal(changed.status, 200);
    assert.equal(changed.headers.get("etag"), '"2"');
  });

  test("another user's document is the same 404 as a missing one; an admin reads it", async () => {
    await write("secret", { pin: 1234 });
    const hidden = await sync.get(path("secret"), { uid: "bob" });
    const missing = await sync.get(path("nothing"), { uid: "bob" });
    assert.equal(hidden.status, 404);
    assert.equal(missing.status, 404);
    const hiddenBody = (await hidden.json()) as { error: { message: string } };
    const missingBody = (await missing.json()) as { error: { message: string } };
    assert.equal(hiddenBody.error.message, "document notes/secret not found");
    assert.equal(missingBody.error.message, "document notes/nothing not found");
    assert.equal(hidden.headers.get("etag"), null);
    const admin = await sync.get(path("secret"), { uid: "ops", claims: { admin: true } });
    assert.equal(admin.status, 200);
  });

  test("serves the caller's own profile and nobody else's", async () => {
    await sync.push(userCreated, {
      uid: "alice",
      email: "alice@example.com",
      display_name: "Alice",
      photo_url: null,
      email_verified: true,
    });
    const own = await sync.get(path("alice", "users"));
    assert.equal(own.status, 200);
    const body = (await own.json()) as { data: Record<string, unknown> };
    assert.equal(body.data.email, "alice@example.com");
    assert.equal(typeof body.data.created_at, "string", "timestamps are ISO strings");
    assert.equal((await sync.get(path("alice", "users"), { uid: "bob" })).status, 404);
    assert.equal((await sync.get(path("carol", "users"), { uid: "carol" })).status, 404);
    // Other owned collections stay closed to the ingress.
    assert.equal((await sync.get(path("alice", "_outbox"))).status, 403);
  });

  test("refuses query parameters and bad ids, naming them", async () => {
    const query = await sync.get(`${path("g1")}?fields=data`);
    assert.equal(query.status, 400);
    assert.match(
      ((await query.json()) as { error: { message: string } }).error.message,
      /unknown query parameter: fields/,
    );
    const badId = await sync.get(path("__reserved__"));
    assert.equal(badId.status, 400);
  });
});

describe("DELETE /v1/documents/{collection}/{document}", () => {
  test("leaves a tombstone the feed reports from an older cursor, with the delete's version and event", async () => {
    await write("d1", { title: "a" });
    await write("d2", { title: "b" });
    const before = await feed("alice");
    assert.deepEqual(
      before.changes.map((change) => change.document),
      ["d1", "d2"],
    );
    const cursor = before.next_cursor ?? undefined;

    const response = await remove("d1");
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("etag"), '"2"');
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.op, "delete");
    assert.equal(body.deleted, true);
    assert.equal(body.version, 2);

    const stored = await db.doc("notes/d1").get();
    assert.equal(stored.get("deleted"), true);
    assert.equal(stored.get("data"), undefined, "the data is gone");
    const expireAt = (stored.get("expire_at") as Timestamp).toMillis();
    const days = (expireAt - Date.now()) / 86_400_000;
    assert.ok(days > 29.9 && days <= 30, `the tombstone expires in 30 days, not ${days}`);

    const [, deleteEvent] = await eventsFor(events, "d1", 2);
    assert.equal(deleteEvent?.op, "delete");
    assert.equal(deleteEvent?.version, 2);
    assert.equal(deleteEvent?.created_by, "alice");

    const after = await feed("alice", cursor);
    assert.deepEqual(after.changes, [
      {
        document: "d1",
        deleted: true,
        version: 2,
        created_by: "alice",
        sync_source: "unknown",
        updated_at: (stored.get("updated_at") as Timestamp).toDate().toISOString(),
      },
    ]);
    assert.equal((await sync.get(path("d1"))).status, 404, "a deleted document reads as missing");
    assert.equal((await remove("d1")).status, 404, "deleting it again finds nothing");
    assert.equal((await remove("never")).status, 404);
  });

  test("a document created again continues its versions and reports a create", async () => {
    await write("r1", { title: "first", extra: true });
    await remove("r1");
    const again = await write("r1", { title: "second" });
    assert.equal(again.status, 200);
    const body = (await again.json()) as { op: string; version: number };
    assert.deepEqual([body.op, body.version], ["create", 3]);
    const stored = await db.doc("notes/r1").get();
    assert.deepEqual(stored.get("data"), { title: "second" }, "nothing of the old data remains");
    assert.equal(stored.get("deleted"), undefined);
    assert.equal(stored.get("expire_at"), undefined);
    const published = await eventsFor(events, "r1", 3);
    assert.deepEqual(
      published.map((event) => [event.op, event.version]),
      [
        ["create", 1],
        ["delete", 2],
        ["create", 3],
      ],
    );
    // Another user cannot take over the id of alice's deleted document.
    const taken = await write("r1", { title: "mine" }, "bob");
    assert.equal(taken.status, 404);
  });

  test("honours If-Match and Idempotency-Key like a write", async () => {
    await write("c1", { n: 1 });
    const stale = await remove("c1", { headers: { "if-match": '"5"' } });
    assert.equal(stale.status, 409);
    assert.equal((await db.doc("notes/c1").get()).get("deleted"), undefined, "nothing deleted");
    const first = await remove("c1", {
      headers: { "if-match": '"1"', "idempotency-key": "del-1" },
    });
    assert.equal(first.status, 200);
    const retry = await remove("c1", {
      headers: { "if-match": '"1"', "idempotency-key": "del-1" },
    });
    assert.equal(retry.status, 200);
    assert.equal(retry.headers.get("idempotent-replayed"), "true");
    assert.equal(retry.headers.get("etag"), '"2"');
    const firstBody = (await first.json()) as { updated_at: string };
    assert.deepEqual(await retry.json(), firstBody);
    const stored = await db.doc("notes/c1").get();
    assert.equal(stored.get("version"), 2, "deleted once");
    assert.equal(
      firstBody.updated_at,
      (stored.get("updated_at") as Timestamp).toDate().toISOString(),
      "the answer and its replay carry the stored updated_at",
    );
  });

  test("another user's delete is the 404 of a missing document and changes nothing", async () => {
    await write("mine", { n: 1 });
    const response = await remove("mine", { uid: "bob" });
    assert.equal(response.status, 404);
    const stored = await db.doc("notes/mine").get();
    assert.equal(stored.get("version"), 1);
    assert.equal(stored.get("deleted"), undefined);
  });
});

describe("PATCH /v1/documents/{collection}/{document} (RFC 7396)", () => {
  test("null removes a member, objects merge, arrays and scalars replace", async () => {
    await write("p1", {
      title: "Goodbye!",
      author: { givenName: "John", familyName: "Doe" },
      tags: ["example", "sample"],
      content: "This will be unchanged",
    });
    const response = await patch("p1", {
      title: "Hello!",
      phoneNumber: "+01-123-456-7890",
      author: { familyName: null },
      tags: ["example"],
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("etag"), '"2"');
    // RFC 7396 section 3's example.
    assert.deepEqual((await db.doc("notes/p1").get()).get("data"), {
      title: "Hello!",
      author: { givenName: "John" },
      tags: ["example"],
      content: "This will be unchanged",
      phoneNumber: "+01-123-456-7890",
    });
    const [, update] = await eventsFor(events, "p1", 2);
    assert.equal(update?.op, "update");
  });

  test("creates a missing document from the patch without its nulls, and honours If-Match", async () => {
    const created = await patch("p2", { a: { b: null, c: 1 }, d: null });
    assert.equal(created.status, 200);
    assert.equal(((await created.json()) as { op: string }).op, "create");
    assert.deepEqual((await db.doc("notes/p2").get()).get("data"), { a: { c: 1 } });
    const stale = await patch("p2", { a: null }, { "if-match": '"7"' });
    assert.equal(stale.status, 409);
    assert.deepEqual((await db.doc("notes/p2").get()).get("data"), { a: { c: 1 } });
  });

  test("takes only merge patches that are objects", async () => {
    const json = await sync.request(path("p3"), {
      method: "PATCH",
      body: JSON.stringify({ a: 1 }),
      headers: { "content-type": "application/json" },
    });
    assert.equal(json.status, 415);
    assert.match(
      ((await json.json()) as { error: { message: string } }).error.message,
      /application\/merge-patch\+json/,
    );
    const array = await patch("p3", [1, 2]);
    assert.equal(array.status, 400);
    assert.equal((await db.doc("notes/p3").get()).exists, false);
  });
});

describe("GET /v1/changes with deletes", () => {
  test("a cursor older than the tombstone retention is 410, telling the client to resync", async () => {
    const old = Math.floor(Date.now() / 1_000) - 31 * 86_400;
    const response = await sync.get(
      `/v1/changes?collection=notes&since=${encodeCursor({ s: old, n: 0, id: "x" })}`,
    );
    assert.equal(response.status, 410);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, "gone");
    assert.match(error.message, /resync from the start/);
    const recent = Math.floor(Date.now() / 1_000) - 29 * 86_400;
    const fresh = await sync.get(
      `/v1/changes?collection=notes&since=${encodeCursor({ s: recent, n: 0, id: "x" })}`,
    );
    assert.equal(fresh.status, 200);
  });
});

describe("POST /v1/sync:batch deletes", () => {
  test("applies delete items beside merges, each with its own status", async () => {
    await write("b1", { n: 1 });
    const response = await sync.post("/v1/sync:batch", {
      changes: [
        { op: "delete", collection: "notes", document: "b1" },
        { op: "merge", collection: "notes", document: "b2", data: { n: 2 } },
        { op: "delete", collection: "notes", document: "missing" },
        { op: "delete", collection: "notes", document: "b3", data: { n: 3 } },
        { op: "rename", collection: "notes", document: "b4" },
      ],
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      results: { status: number; result?: { op: string }; error?: { message: string } }[];
    };
    assert.deepEqual(
      body.results.map((item) => item.status),
      [200, 200, 404, 400, 400],
    );
    assert.equal(body.results[0]?.result?.op, "delete");
    assert.match(body.results[3]?.error?.message ?? "", /unknown field: data/);
    assert.match(body.results[4]?.error?.message ?? "", /op must be "merge" or "delete"/);
    assert.equal((await db.doc("notes/b1").get()).get("deleted"), true);
  });
});
