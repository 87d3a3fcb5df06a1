import assert from "node:assert/strict";
import { test } from "node:test";
import { applyMergePatch } from "./merge-patch.ts";

// RFC 7396 Appendix A, every example: [original, patch, result].
const examples: [unknown, unknown, unknown][] = [
  [{ a: "b" }, { a: "c" }, { a: "c" }],
  [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
  [{ a: "b" }, { a: null }, {}],
  [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
  [{ a: ["b"] }, { a: "c" }, { a: "c" }],
  [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
  [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
  [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
  [
    ["a", "b"],
    ["c", "d"],
    ["c", "d"],
  ],
  [{ a: "b" }, ["c"], ["c"]],
  [{ a: "foo" }, null, null],
  [{ a: "foo" }, "bar", "bar"],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: "b", c: null }, { a: "b" }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

test("applies every example of RFC 7396 Appendix A", () => {
  for (const [original, patch, result] of examples) {
    assert.deepEqual(applyMergePatch(original, patch), result, JSON.stringify([original, patch]));
  }
});

test("leaves its arguments unchanged", () => {
  const original = { a: { b: 1 } };
  const patch = { a: { b: null, c: 2 } };
  assert.deepEqual(applyMergePatch(original, patch), { a: { c: 2 } });
  assert.deepEqual(original, { a: { b: 1 } });
  assert.deepEqual(patch, { a: { b: null, c: 2 } });
});
