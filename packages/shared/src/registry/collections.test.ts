import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { processedMessagesCollection } from "../idempotency.ts";
import { collectionNamed, collections, fieldPolicies } from "./collections.ts";

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
    ]);
  });

  test("an unknown name is an error that lists the known ones", () => {
    assert.equal(collectionNamed("_outbox").drains, true);
    assert.throws(
      () => collectionNamed("nope"),
      /unknown collection "nope"; known collections: users/,
    );
  });
});
