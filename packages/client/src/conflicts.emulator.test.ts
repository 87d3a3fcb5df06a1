import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { MemoryStorage } from "./index.ts";
import { startClientTest } from "./testing/client-fixture.ts";
import type { ClientEvents, ConflictResolution } from "./types.ts";

let t: Awaited<ReturnType<typeof startClientTest>>;

before(async () => {
  t = await startClientTest();
});
after(() => t.close());
beforeEach(() => t.sync.resetFirestore());

/** notes/<id> at version 2 on the server, written by alice elsewhere. */
async function atVersion2(id: string) {
  await t.sync.post("/v1/sync", { collection: "notes", document: id, data: { title: "one" } });
  await t.sync.post("/v1/sync", { collection: "notes", document: id, data: { title: "two" } });
}

describe("version conflicts", () => {
  test("by default drop the local change, refresh the document and emit conflict", async () => {
    await atVersion2("c1");
    const client = t.client({ storage: new MemoryStorage() });
    const conflicts: ClientEvents["conflict"][] = [];
    client.on("conflict", (event) => conflicts.push(event));
    await client.put("notes", "c1", { title: "stale" }, { expectedVersion: 1 });
    await client.flush();
    assert.deepEqual(
      conflicts.map((c) => [c.change.id, c.currentVersion, c.resolution]),
      [["c1", 2, "drop"]],
    );
    assert.deepEqual(client.get("notes", "c1")?.data, { title: "two" });
    assert.equal(client.get("notes", "c1")?.version, 2);
    assert.equal(await t.version("notes", "c1"), 2);
  });

  test("onConflict retries unconditionally, or writes the data it returns", async () => {
    await atVersion2("c2");
    await atVersion2("c3");
    await atVersion2("c4");
    const seen: Array<[string, number | undefined]> = [];
    const client = t.client({
      storage: new MemoryStorage(),
      onConflict: (change, current): ConflictResolution => {
        seen.push([change.id, current]);
        if (change.id === "c2") return "retry-unconditional";
        return { data: { title: `merged at ${current}` } };
      },
    });
    await client.put("notes", "c2", { title: "mine" }, { expectedVersion: 1 });
    await client.put("notes", "c3", { title: "mine" }, { expectedVersion: 1 });
    await client.patch("notes", "c4", { title: null }, { expectedVersion: 1 });
    await client.flush();
    assert.deepEqual(seen.sort(), [
      ["c2", 2],
      ["c3", 2],
      ["c4", 2],
    ]);
    for (const [id, title] of [
      ["c2", "mine"],
      ["c3", "merged at 2"],
      ["c4", "merged at 2"],
    ] as const) {
      const stored = await t.document("notes", id);
      assert.deepEqual(typeof stored === "number" ? stored : [stored.data, stored.version], [
        { title },
        3,
      ]);
    }
  });

  test("a change the server refuses for good leaves the outbox as rejected", async () => {
    const client = t.client({ storage: new MemoryStorage() });
    const rejected: ClientEvents["rejected"][] = [];
    client.on("rejected", (event) => rejected.push(event));
    await client.put("users", "alice", { name: "x" });
    await client.put("notes", "fine", { ok: true });
    await client.flush();
    assert.deepEqual(
      rejected.map((r) => [r.change.collection, r.status]),
      [["users", 403]],
    );
    assert.equal(client.pending().length, 0);
    assert.equal(await t.version("notes", "fine"), 1);
  });
});
