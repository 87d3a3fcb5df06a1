import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FieldValue, Firestore } from "@google-cloud/firestore";
import { AccessRules } from "../access-rules.ts";
import { isToolEvent, toolSources } from "../topics/realtime-updates.ts";
import { planToolWrite, servedBySync, tombstoneOf } from "./plan-tool-write.ts";

// A client that never connects: references and sentinels only.
const db = new Firestore({ projectId: "demo-plan" });
const options = { source: toolSources.restore, undelete: false };
const note = (data: Record<string, unknown>, version: number) => ({
  data,
  version,
  created_by: "alice",
  readers: { alice: true },
});

describe("how a tool's write is planned", () => {
  test("the version continues from the higher of target and source, with server-time stamps", () => {
    const ref = db.doc("notes/n1");
    const back = planToolWrite(ref, note({ t: "old" }, 2), note({ t: "new" }, 3), options);
    assert.deepEqual([back.outcome, back.op, back.version], ["changed", "update", 4]);
    assert.ok(back.fields?.updated_at instanceof FieldValue);
    assert.deepEqual(Object.keys(back.fields?.readers as object), ["alice"]);
    assert.equal(back.fields?.sync_source, "backup-restore");
    const ahead = planToolWrite(ref, note({ t: "x" }, 7), note({ t: "y" }, 3), options);
    assert.equal(ahead.version, 8);
    assert.deepEqual(
      [planToolWrite(ref, note({ t: "x" }, 1), undefined, options)].map((p) => [p.outcome, p.op]),
      [["new", "create"]],
    );
  });

  test("the same content is unchanged whatever the stamps; a tombstone stays unless undelete", () => {
    const ref = db.doc("notes/n1");
    const same = planToolWrite(
      ref,
      note({ t: 1n }, 2),
      { ...note({ t: 1 }, 5), updated_at: 1 },
      options,
    );
    assert.deepEqual(same, { outcome: "unchanged" });
    const tombstone = { deleted: true, version: 4, created_by: "alice" };
    assert.deepEqual(planToolWrite(ref, note({ t: 1 }, 2), tombstone, options), {
      outcome: "kept-deleted",
    });
    const back = planToolWrite(ref, note({ t: 1 }, 2), tombstone, { ...options, undelete: true });
    assert.deepEqual([back.outcome, back.op, back.version], ["undeleted", "create", 5]);
    const deleting = planToolWrite(ref, tombstone, note({ t: 1 }, 6), options);
    assert.deepEqual([deleting.op, deleting.version], ["delete", 7]);
  });

  test("owned collections, subcollections and other shapes keep only their version from going back", () => {
    assert.equal(servedBySync(db.doc("users/u1")), false);
    assert.equal(servedBySync(db.doc("_outbox/e1")), false);
    assert.equal(servedBySync(db.doc("notes/n1/comments/c1")), false);
    assert.equal(servedBySync(db.doc("restored_notes/n1")), true);
    const record = planToolWrite(
      db.doc("backups/b1"),
      { status: "completed", version: 2 },
      { status: "x", version: 5 },
      options,
    );
    assert.deepEqual(record, {
      outcome: "changed",
      fields: { status: "completed", version: 6 },
      version: 6,
    });
    const raw = planToolWrite(db.doc("notes/raw"), { n: 1 }, undefined, options);
    assert.deepEqual(raw, { outcome: "new", fields: { n: 1 } });
  });

  test("a tombstone is sync's: no data, deleted_at, expire_at, the next version, the deleted document's readers", () => {
    const rules = new AccessRules({
      shared_notes: { policy: "members", members_field: "members" },
    });
    const ref = db.doc("shared_notes/s1");
    const live = { ...note({ members: ["bob"] }, 4), readers: { alice: true, bob: true } };
    const wanted = tombstoneOf(live, 1_000, 86_400_000);
    assert.equal("data" in wanted, false);
    assert.equal(wanted.deleted, true);
    assert.ok(wanted.deleted_at instanceof FieldValue);
    assert.equal((wanted.expire_at as { toMillis(): number }).toMillis(), 86_401_000);
    const plan = planToolWrite(ref, wanted, live, { ...options, rules });
    assert.deepEqual([plan.op, plan.version, plan.outcome], ["delete", 5, "changed"]);
    assert.deepEqual(Object.keys(plan.fields?.readers as object).sort(), ["alice", "bob"]);
  });

  test("tool events are told apart by their source", () => {
    assert.equal(isToolEvent({ source: "backup-restore" }), true);
    assert.equal(isToolEvent({ source: "migrate" }), true);
    assert.equal(isToolEvent({ source: "ios" }), false);
  });
});
