import assert from "node:assert/strict";
import { test } from "node:test";
import { realtimeUpdateOrderingKey, realtimeUpdates } from "./realtime-updates.ts";

test("a document's events share one ordering key, <collection>/<document>, which the topic uses", () => {
  const event = {
    collection: "notes",
    document: "n1",
    timestamp: "2026-01-01T00:00:00Z",
    op: "update" as const,
    version: 2,
    source: "web",
  };
  assert.equal(realtimeUpdateOrderingKey(event), "notes/n1");
  assert.equal(realtimeUpdates.orderingKey?.(event), "notes/n1");
  assert.notEqual(
    realtimeUpdateOrderingKey({ collection: "notes", document: "n2" }),
    realtimeUpdateOrderingKey(event),
  );
});
