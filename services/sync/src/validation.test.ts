import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type CollectionSpec, collectionNames, collections } from "@syncstack/shared";
import { assertWritable, ownedCollections } from "./validation.ts";

describe("owned collections", () => {
  test("the ingress refuses every collection of the registry", () => {
    assert.deepEqual([...ownedCollections].sort(), collections.map(({ name }) => name).sort());
    for (const { name } of collections) assert.throws(() => assertWritable(name), /owned/);
    assertWritable("notes");
  });

  test("a collection added to the registry is refused, lookalikes included", () => {
    const added: CollectionSpec = {
      name: "invoices",
      owners: ["files"],
      internal: false,
      description: "a collection this test adds",
    };
    const owned = collectionNames([...collections, added]);
    assert.throws(() => assertWritable("invoices", owned), /owned by syncstack/);
    assert.throws(() => assertWritable("Invoices", owned), /looks like invoices/);
    assertWritable("invoices", ownedCollections);
  });
});
