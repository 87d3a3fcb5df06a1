import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { decodeCursor, encodeCursor, positionOf } from "./change-feed.ts";
import { clockOf, commitLate, before as earlier } from "./testing/late-commit.ts";
import { startSync } from "./testing/sync-fixture.ts";

let sync: Awaited<ReturnType<typeof startSync>>;

before(async () => {
  sync = await startSync();
});
after(() => sync.close());
beforeEach(() => sync.resetFirestore());

describe("GET /v1/changes", () => {
  const get = async (query: string) => {
    const response = await sync.get(`/v1/changes?${query}`);
    return {
      status: response.status,
      body: (await response.json()) as {
        changes: { document: string; version: number }[];
        next_cursor: string;
        has_more: boolean;
      },
    };
  };

  test("lists changes after a cursor in change order, page by page", async () => {
    for (const document of ["a", "b", "c"])
      await sync.post("/v1/sync", { collection: "feed", document, data: { document } });
    await sync.post("/v1/sync", { collection: "feed", document: "a", data: { again: true } });
    const first = await get("collection=feed&limit=2");
    assert.deepEqual(
      first.body.changes.map((c) => c.document),
      ["b", "c"],
    );
    assert.equal(first.body.has_more, true);
    const second = await get(`collection=feed&limit=2&since=${first.body.next_cursor}`);
    assert.deepEqual(
      second.body.changes.map((c) => [c.document, c.version]),
      [["a", 2]],
    );
    assert.equal(second.body.has_more, false);
    await sync.post("/v1/sync", { collection: "feed", document: "d", data: {} });
    const third = await get(`collection=feed&since=${second.body.next_cursor}`);
    assert.deepEqual(
      third.body.changes.map((c) => c.document),
      ["d"],
    );
    const caughtUp = await get(`collection=feed&since=${third.body.next_cursor}`);
    assert.deepEqual(caughtUp.body.changes, []);
    // Nothing new: the same position, as read later.
    const [was, now] = [third, caughtUp].map((page) => decodeCursor(page.body.next_cursor));
    assert.deepEqual(now && positionOf(now), was && positionOf(was));
  });

  test("a commit at or before the cursor that became visible after the read comes next, once", async () => {
    const db = sync.context.firestore;
    for (const document of ["a", "b"])
      await sync.post("/v1/sync", { collection: "feed", document, data: { document } });
    const first = await get("collection=feed");
    assert.deepEqual(
      first.body.changes.map((c) => c.document),
      ["a", "b"],
    );
    // Its request came before that read, its commit became visible after it.
    await commitLate(db, [{ path: "feed/late", clock: earlier(await clockOf(db, "feed/b"), 1) }]);
    const second = await get(`collection=feed&since=${first.body.next_cursor}`);
    assert.deepEqual(
      second.body.changes.map((c) => c.document),
      ["late"],
    );
    assert.equal(second.body.has_more, false);
    const [held, next] = [first, second].map((page) => decodeCursor(page.body.next_cursor));
    assert.deepEqual(next && positionOf(next), held && positionOf(held), "the position stays");
    const third = await get(`collection=feed&since=${second.body.next_cursor}`);
    assert.deepEqual(third.body.changes, []);
    await sync.post("/v1/sync", { collection: "feed", document: "c", data: {} });
    const fourth = await get(`collection=feed&since=${third.body.next_cursor}`);
    assert.deepEqual(
      fourth.body.changes.map((c) => c.document),
      ["c"],
    );
  });

  test("a cursor without a read time (issued before it had one) still reads after its position", async () => {
    const db = sync.context.firestore;
    for (const document of ["a", "b"])
      await sync.post("/v1/sync", { collection: "feed", document, data: { document } });
    const first = await get("collection=feed&limit=1");
    const issued = decodeCursor(first.body.next_cursor);
    assert.ok(issued.r, "a cursor carries its read time");
    const old = encodeCursor(positionOf(issued));
    const second = await get(`collection=feed&since=${old}`);
    assert.deepEqual(
      second.body.changes.map((c) => c.document),
      ["b"],
    );
    const upgraded = decodeCursor(second.body.next_cursor);
    assert.ok(upgraded.r, "the next cursor has one");
    await commitLate(db, [{ path: "feed/late", clock: earlier(await clockOf(db, "feed/b"), 1) }]);
    const third = await get(`collection=feed&since=${second.body.next_cursor}`);
    assert.deepEqual(
      third.body.changes.map((c) => c.document),
      ["late"],
    );
  });

  test("rejects a bad cursor, limit or collection", async () => {
    assert.equal((await get("collection=feed&since=garbage")).status, 400);
    assert.equal((await get("collection=feed&limit=0")).status, 400);
    assert.equal((await get("limit=5")).status, 400);
    assert.equal((await get("collection=users")).status, 403);
    const unknown = await get("collection=feed&limt=5");
    assert.equal(unknown.status, 400);
    assert.equal(
      (unknown.body as unknown as { error: { message: string } }).error.message,
      "unknown query parameter: limt",
    );
  });
});
