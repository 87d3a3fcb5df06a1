import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { collaborationId, deltaOf, eventId, isCollaboration } from "./on-realtime-update.ts";
import { activity } from "./testing/analytics-fixture.ts";

describe("what an event counts", () => {
  test("a create or a change of someone else's document is a collaboration", () => {
    const others = { created_by: "ada" };
    assert.equal(isCollaboration(activity("bo", 1, { op: "update", ...others })), true);
    assert.equal(isCollaboration(activity("bo", 1, { op: "create", ...others })), true);
  });

  test("a delete, one's own document, or an event without both names is not", () => {
    assert.equal(isCollaboration(activity("bo", 1, { op: "delete", created_by: "ada" })), false);
    assert.equal(isCollaboration(activity("bo", 1, { op: "update", created_by: "bo" })), false);
    assert.equal(isCollaboration(activity("bo", 1, { op: "update" })), false);
    assert.equal(
      isCollaboration({ ...activity("bo", 1, { created_by: "ada" }), uid: undefined }),
      false,
    );
  });

  test("the pair's marker id is the same for every version and op, and differs per user and document", () => {
    const v2 = activity("bo", 1, { op: "update", version: 2, created_by: "ada" });
    const v3 = { ...v2, op: "delete" as const, version: 3 };
    assert.equal(collaborationId("bo", v2), collaborationId("bo", v3));
    assert.notEqual(collaborationId("cy", v2), collaborationId("bo", v2));
    assert.notEqual(collaborationId("bo", { ...v2, document: "other" }), collaborationId("bo", v2));
    // JSON framing: no two (uid, collection, document) triples collide by concatenation.
    assert.notEqual(
      collaborationId("a", { collection: "bc", document: "d" }),
      collaborationId("ab", { collection: "c", document: "d" }),
    );
    assert.notEqual(eventId(v2), eventId(v3));
  });

  test("a delta counts a create, and a collaboration only when told it is the pair's first", () => {
    const event = activity("bo", 1, { created_by: "ada" });
    assert.deepEqual(
      [deltaOf(event, true), deltaOf(event)].map((d) => [d.documents_created, d.collaborations]),
      [
        [1, 1],
        [1, 0],
      ],
    );
    const update = deltaOf({ ...event, op: "update" }, true);
    assert.equal(update.documents_created, 0);
    assert.equal(update.last_activity.toDate().toISOString(), event.timestamp);
  });
});
