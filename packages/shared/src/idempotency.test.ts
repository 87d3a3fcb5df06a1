import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Firestore, Timestamp } from "@google-cloud/firestore";
import { processedMessageRecord, processedMessagesCollection } from "./idempotency.ts";

// Never connects: the record is built locally.
const db = new Firestore({ projectId: "demo-idempotency", host: "127.0.0.1:1", ssl: false });
after(() => db.terminate());

test("a processed-message record: its key as the document id, and an expiry counted from the clock", () => {
  const nowMs = Date.UTC(2026, 0, 1);
  const record = processedMessageRecord(db, "analytics/realtime-updates/a b", {
    nowMs,
    retentionDays: 2,
  });
  assert.equal(record.ref.parent.id, processedMessagesCollection);
  assert.equal(record.ref.id, "analytics%2Frealtime-updates%2Fa%20b");
  assert.equal(record.data.key, "analytics/realtime-updates/a b");
  assert.ok(record.data.expire_at.isEqual(Timestamp.fromMillis(nowMs + 2 * 86_400_000)));
  const week = processedMessageRecord(db, "k", { nowMs });
  assert.ok(week.data.expire_at.isEqual(Timestamp.fromMillis(nowMs + 7 * 86_400_000)));
});
