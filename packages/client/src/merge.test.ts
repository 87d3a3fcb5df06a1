import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { backoffMs, retryAfterMs } from "./backoff.ts";
import { deepMerge, mergePatch } from "./merge.ts";

describe("deepMerge (POST /v1/sync)", () => {
  test("merges objects member by member; null, {}, arrays and scalars replace", () => {
    const stored = { a: { b: 1, c: 2 }, list: [1, 2], keep: true, gone: { x: 1 } };
    assert.deepEqual(deepMerge(stored, { a: { b: 9 }, list: [], n: null, gone: {} }), {
      a: { b: 9, c: 2 },
      list: [],
      keep: true,
      gone: {},
      n: null,
    });
    assert.deepEqual(stored.a, { b: 1, c: 2 });
  });
});

describe("mergePatch (RFC 7396)", () => {
  test("removes members set to null at any depth, merges objects, replaces the rest", () => {
    assert.deepEqual(
      mergePatch(
        { title: "a", tags: ["x"], meta: { a: 1, b: 2 }, n: 1 },
        {
          title: "b",
          tags: null,
          meta: { a: null, c: { d: 1 } },
          n: { m: 1 },
        },
      ),
      { title: "b", meta: { b: 2, c: { d: 1 } }, n: { m: 1 } },
    );
  });
});

describe("backoff", () => {
  test("doubles up to the maximum, with jitter in the upper half", () => {
    const options = { baseMs: 100, maxMs: 1_000 };
    assert.equal(
      backoffMs(0, options, () => 0),
      50,
    );
    assert.equal(
      backoffMs(0, options, () => 1),
      100,
    );
    assert.equal(
      backoffMs(3, options, () => 1),
      800,
    );
    assert.equal(
      backoffMs(20, options, () => 1),
      1_000,
    );
  });

  test("reads Retry-After in seconds or as a date", () => {
    assert.equal(retryAfterMs("2"), 2_000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(retryAfterMs(null), undefined);
    assert.equal(retryAfterMs("soon"), undefined);
  });
});
