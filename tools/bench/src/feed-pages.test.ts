import assert from "node:assert/strict";
import { test } from "node:test";
import { changesPageOf, chunks, summarize } from "./feed-pages.ts";

test("changesPageOf accepts a page of the change feed and names what is off otherwise", () => {
  const page = {
    changes: [{ document: "d1", created_by: "alice", version: 1 }],
    next_cursor: "abc",
    has_more: false,
  };
  assert.equal(changesPageOf(page), page);
  assert.deepEqual(changesPageOf({ changes: [], next_cursor: null, has_more: false }).changes, []);
  assert.throws(() => changesPageOf(undefined), /not a page of changes/);
  assert.throws(
    () => changesPageOf({ error: { code: "not_found" } }),
    /not a page of changes: \{"error"/,
  );
  assert.throws(() => changesPageOf({ ...page, has_more: "no" }), /not a page of changes/);
  assert.throws(() => changesPageOf({ ...page, next_cursor: 3 }), /not a page of changes/);
  assert.throws(() => changesPageOf({ ...page, changes: [{ id: "d1" }] }), /not a page of changes/);
});

test("chunks slices in order, the last slice holding the rest", () => {
  assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunks([1, 2], 500), [[1, 2]]);
  assert.deepEqual(chunks([], 3), []);
  assert.throws(() => chunks([1], 0), /chunk size must be >= 1, not 0/);
});

test("summarize gives the count, median and 99th percentile without reordering its input", () => {
  const latencies = [5, 1, 4, 2, 3];
  assert.deepEqual(summarize(latencies), { count: 5, p50: 3, p99: 5 });
  assert.deepEqual(latencies, [5, 1, 4, 2, 3]);
  const empty = summarize([]);
  assert.equal(empty.count, 0);
  assert.ok(Number.isNaN(empty.p50));
});
