import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Outbox, type PendingBatch } from "./outbox.ts";
import { MemoryStorage, type StorageOp } from "./storage.ts";
import type { Change } from "./types.ts";

/** A memory storage that keeps every write it was given. */
class RecordingStorage extends MemoryStorage {
  readonly writes: StorageOp[][] = [];

  override async write(ops: readonly StorageOp[]): Promise<void> {
    this.writes.push([...ops]);
    await super.write(ops);
  }
}

const put = (id: string, n: number): Change => ({
  op: "put",
  collection: "notes",
  id,
  data: { n },
});

describe("the outbox's bookkeeping", () => {
  test("keeps each document's changes in order and sends only their heads", async () => {
    const outbox = new Outbox(new MemoryStorage());
    await outbox.load();
    const [a1, b1, a2, c1] = await outbox.add([put("a", 1), put("b", 1), put("a", 2), put("c", 1)]);
    assert.ok(a1 && b1 && a2 && c1);
    assert.deepEqual(
      outbox.heads().map((entry) => entry.seq),
      [a1.seq, b1.seq, c1.seq],
    );
    assert.deepEqual(
      outbox.forDocument("notes", "a").map((entry) => entry.seq),
      [a1.seq, a2.seq],
    );
    await outbox.removeMany([a1.seq, c1.seq]);
    assert.deepEqual(
      outbox.heads().map((entry) => entry.seq),
      [b1.seq, a2.seq],
    );
    assert.deepEqual(
      outbox.forDocument("notes", "a").map((entry) => entry.seq),
      [a2.seq],
    );
    assert.equal(outbox.find(a1.seq), undefined);
    assert.equal(outbox.find(a2.seq)?.change, a2.change);
    assert.equal(outbox.size, 2);
  });

  test("removes a batch's changes, their other writes and the batch in one storage write", async () => {
    const storage = new RecordingStorage();
    const outbox = new Outbox(storage);
    await outbox.load();
    const added = await outbox.add(Array.from({ length: 100 }, (_, n) => put(`d${n}`, n)));
    const batch: PendingBatch = {
      key: "k",
      items: added.map((entry) => ({ seq: entry.seq, key: entry.key })),
      body: { changes: [] },
    };
    await outbox.setBatch(batch);
    const before = storage.writes.length;
    await outbox.removeMany(
      added.map((entry) => entry.seq),
      [{ type: "set", key: "cache/notes/d0", value: { version: 1 } }],
      { endBatch: true },
    );
    assert.equal(storage.writes.length, before + 1);
    assert.equal(outbox.size, 0);
    assert.equal(outbox.batch, undefined);
    assert.deepEqual(await storage.entries("outbox/"), []);
    assert.deepEqual(await storage.entries("batch/"), []);
    assert.deepEqual(await storage.entries("cache/"), [["cache/notes/d0", { version: 1 }]]);
  });

  test("reloads its order and heads from storage, a replaced change in its place", async () => {
    const storage = new MemoryStorage();
    const first = new Outbox(storage);
    await first.load();
    const [a1] = await first.add([put("a", 1), put("b", 1), put("a", 2)]);
    assert.ok(a1);
    await first.replace(a1.seq, put("a", 10));
    const second = new Outbox(storage);
    await second.load();
    assert.deepEqual(
      second.forDocument("notes", "a").map((entry) => (entry.change as { data: unknown }).data),
      [{ n: 10 }, { n: 2 }],
    );
    assert.deepEqual(
      second.heads().map((entry) => entry.change.id),
      ["a", "b"],
    );
  });
});
