import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { processedMessagesCollection } from "../idempotency.ts";
import {
  type CollectionSpec,
  collectionNamed,
  collections,
  compositeIndexes,
  fieldPolicies,
} from "./collections.ts";

describe("collections registry", () => {
  test("internal collections, and only they, start with an underscore", () => {
    for (const collection of collections) {
      assert.equal(collection.internal, collection.name.startsWith("_"), collection.name);
    }
  });

  test("derives the TTL and unindexed-field policies", () => {
    assert.deepEqual(fieldPolicies(), [
      { id: "idempotency_ttl", collection: "_idempotency", field: "expire_at", ttl: true },
      {
        id: "processed_messages_ttl",
        collection: processedMessagesCollection,
        field: "expire_at",
        ttl: true,
      },
      { id: "outbox_events", collection: "_outbox", field: "events", ttl: false },
      { id: "outbox_traces", collection: "_outbox", field: "traces", ttl: false },
    ]);
  });

  test("derives the composite indexes, each ending with the document id", () => {
    assert.deepEqual(compositeIndexes(), [
      {
        id: "files_owner_deleted_created",
        collection: "files",
        fields: [
          { field: "owner", order: "ASCENDING" },
          { field: "deleted", order: "ASCENDING" },
          { field: "created", order: "DESCENDING" },
          { field: "__name__", order: "DESCENDING" },
        ],
      },
    ]);
  });

  test("a composite index of one field is refused, naming the collection", () => {
    const lone: CollectionSpec = {
      name: "_lone",
      owners: [],
      internal: true,
      description: "a collection this test adds",
      indexes: [{ fields: [["a", "ASCENDING"]] }],
    };
    assert.throws(() => compositeIndexes([lone]), /composite index of _lone needs at least two/);
  });

  test("an unknown name is an error that lists the known ones", () => {
    assert.equal(collectionNamed("_outbox").drains, true);
    assert.throws(
      () => collectionNamed("nope"),
      /unknown collection "nope"; known collections: users/,
    );
  });
});
