import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { AccessRules } from "@syncstack/shared";
import { type Cursor, type Feed, feedOf, positionOf } from "./change-feed.ts";
import { readChanges } from "./feed-page.ts";
import { clockOf, commitLate, before as earlier } from "./testing/late-commit.ts";
import { startSync } from "./testing/sync-fixture.ts";

let sync: Awaited<ReturnType<typeof startSync>>;
let feed: Feed;
const settleMs = 10_000;

before(async () => {
  sync = await startSync();
  // An admin follows updated_at.
  feed = feedOf(
    sync.context.firestore,
    new AccessRules({}),
    { uid: "root", claims: { admin: true } },
    "notes",
  );
});
after(() => sync.close());
beforeEach(() => sync.resetFirestore());

async function write(...documents: string[]): Promise<void> {
  for (const document of documents) {
    const response = await sync.post("/v1/sync", { collection: "notes", document, data: {} });
    assert.equal(response.status, 200, await response.text());
  }
}

const names = (page: Awaited<ReturnType<typeof readChanges>>) =>
  page.items.map((item) => item.doc.id);

describe("readChanges", () => {
  test("reads the settle window again only while the cursor is within it", async () => {
    await write("a", "b", "c");
    const first = await readChanges(feed, undefined, { limit: 10, settleMs });
    assert.deepEqual(names(first), ["a", "b", "c"]);
    assert.equal(first.rescanned, 0, "from the start there is nothing to read again");
    const atHead = await readChanges(feed, first.cursor, { limit: 10, settleMs });
    assert.deepEqual(names(atHead), []);
    assert.equal(atHead.rescanned, 3, "the window holds the 3 writes of the last seconds");

    // Documents whose clocks are a minute old: a cursor at them is past the window.
    const db = sync.context.firestore;
    const old = earlier(Timestamp.now(), 60_000);
    await sync.resetFirestore();
    await commitLate(db, [
      { path: "notes/o1", clock: old },
      { path: "notes/o2", clock: earlier(old, -1) },
    ]);
    const fromStart = await readChanges(feed, undefined, { limit: 10, settleMs });
    assert.deepEqual(names(fromStart), ["o1", "o2"]);
    // One more, older than the window, visible only now: the settle bound says that cannot
    // happen, and the read does not look for it.
    await commitLate(db, [{ path: "notes/o0", clock: earlier(old, 1) }]);
    const next = await readChanges(feed, fromStart.cursor, { limit: 10, settleMs });
    assert.deepEqual(names(next), []);
    assert.equal(next.rescanned, 0);
    assert.deepEqual(
      next.cursor && positionOf(next.cursor),
      fromStart.cursor && positionOf(fromStart.cursor),
    );
  });

  test("a busy window is read over pages that each make progress, each late commit once", async () => {
    await write("w1", "w2", "w3", "w4", "w5");
    const head = await readChanges(feed, undefined, { limit: 10, settleMs });
    const db = sync.context.firestore;
    const w5 = await clockOf(db, "notes/w5");
    await commitLate(db, [
      { path: "notes/l1", clock: earlier(w5, 3) },
      { path: "notes/l2", clock: earlier(w5, 2) },
      { path: "notes/l3", clock: earlier(w5, 1) },
    ]);
    await write("after");
    let cursor: Cursor | undefined = head.cursor;
    const seen: string[] = [];
    const scans: number[] = [];
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 20, "the window's pages end");
      const page = await readChanges(feed, cursor, { limit: 2, settleMs, rescanBudget: 3 });
      seen.push(...names(page));
      scans.push(page.rescanned);
      cursor = page.cursor;
      if (!page.hasMore) break;
    }
    assert.deepEqual(seen, ["l1", "l2", "l3", "after"]);
    assert.ok(
      scans.every((count) => count <= 3),
      `at most the budget per page: ${scans}`,
    );
    const again = await readChanges(feed, cursor, { limit: 10, settleMs });
    assert.deepEqual(names(again), [], "nothing twice");
  });
});
