import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileFilter } from "./filter.ts";

describe("compileFilter", () => {
  const finalize = { eventType: "OBJECT_FINALIZE", objectId: "images/cat.png" };
  const remove = { eventType: "OBJECT_DELETE", objectId: "docs/a.txt" };

  test("matches equality and inequality on attributes", () => {
    const isFinalize = compileFilter('attributes.eventType = "OBJECT_FINALIZE"');
    assert.equal(isFinalize(finalize), true);
    assert.equal(isFinalize(remove), false);
    assert.equal(compileFilter('attributes.eventType != "OBJECT_FINALIZE"')(remove), true);
  });

  test("supports presence, hasPrefix, NOT, AND, OR and parentheses", () => {
    assert.equal(compileFilter("attributes:objectId")(finalize), true);
    assert.equal(compileFilter("NOT attributes:missing")(finalize), true);
    const images = compileFilter(
      'hasPrefix(attributes.objectId, "images/") AND (attributes.eventType = "OBJECT_FINALIZE" OR -attributes:eventType)',
    );
    assert.equal(images(finalize), true);
    assert.equal(images({ objectId: "images/x" }), true);
    assert.equal(images(remove), false);
  });

  test("rejects expressions outside the grammar with their position", () => {
    assert.throws(() => compileFilter("attributes.a = b"), /expected a quoted value at 15/);
    assert.throws(() => compileFilter('data.a = "b"'), /expected attributes.<key> at 0/);
    assert.throws(() => compileFilter('attributes.a = "b" AND'), /expected a condition/);
    assert.throws(() => compileFilter("(attributes:a"), /expected \)/);
  });
});
