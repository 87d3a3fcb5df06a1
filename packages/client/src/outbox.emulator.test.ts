import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { waitFor } from "@syncstack/shared/testing";
import { startSync } from "@syncstack/sync/testing";
import { FileStorage, MemoryStorage, type StorageOp } from "./node.ts";
import { startClientTest, storagePath } from "./testing/client-fixture.ts";

let t: Awaited<ReturnType<typeof startClientTest>>;

before(async () => {
  t = await startClientTest();
});
after(() => t.close());
beforeEach(async () => {
  t.state.intercept = undefined;
  t.state.target = t.sync.url;
  await t.sync.resetFirestore();
});

const isBatch = (url: string) => url.endsWith("/v1/sync:batch");

describe("the outbox", () => {
  test("sends what was queued offline after a restart, in order per document", async () => {
    const path = storagePath();
    const first = t.client({ storage: new FileStorage(path), online: false });
    await first.put("notes", "x", { a: 1, keep: true });
    await first.patch("notes", "x", { a: null, b: 2 });
    await first.put("notes", "x", { c: 3 });
    await first.batch([
      { op: "put", collection: "notes", id: "y", data: { title: "y" } },
      { op: "put", collection: "notes", id: "z", data: { title: "z" } },
    ]);
    await first.delete("notes", "z");
    assert.deepEqual(first.get("notes", "x")?.data, { keep: true, b: 2, c: 3 });
    assert.equal(first.get("notes", "x")?.pending, true);
    assert.equal(first.get("notes", "z"), undefined);
    await first.close();

    const second = t.client({ storage: new FileStorage(path) });
    await second.ready;
    assert.equal(second.pending().length, 6);
    await second.flush();
    const x = await t.document("notes", "x");
    assert.deepEqual(typeof x === "number" ? x : [x.data, x.version], [
      { keep: true, b: 2, c: 3 },
      3,
    ]);
    assert.equal(await t.version("notes", "y"), 1);
    assert.equal(await t.document("notes", "z"), 404);
    assert.deepEqual(second.get("notes", "x")?.data, { keep: true, b: 2, c: 3 });
    assert.equal(second.get("notes", "x")?.pending, false);
  });

  test("applies each change once when answers are lost after the server applied them", async () => {
    let dropped = 0;
    t.state.intercept = async ({ url }, forward) => {
      const response = await forward();
      if (isBatch(url) && dropped < 2) {
        dropped++;
        await response.text();
        throw new TypeError("fetch failed: the connection was reset");
      }
      return response;
    };
    const client = t.client({ storage: new MemoryStorage() });
    for (let n = 1; n <= 3; n++) await client.put("notes", "same", { n });
    await client.put("notes", "other", { n: 1 });
    await client.flush();
    assert.equal(dropped, 2);
    const same = await t.document("notes", "same");
    assert.deepEqual(typeof same === "number" ? same : [same.data, same.version], [{ n: 3 }, 3]);
    assert.equal(await t.version("notes", "other"), 1);
  });

  test("a batch sent before a crash goes again after the restart under the same key", async () => {
    const path = storagePath();
    const keys: string[] = [];
    t.state.intercept = async ({ url, init }, forward) => {
      if (isBatch(url))
        keys.push((init.headers as Record<string, string>)["idempotency-key"] ?? "");
      const response = await forward();
      if (keys.length === 1) throw new TypeError("the process died before reading the answer");
      return response;
    };
    const first = t.client({
      storage: new FileStorage(path),
      backoff: { baseMs: 60_000, maxMs: 60_000 },
    });
    await first.batch([
      { op: "put", collection: "notes", id: "crash", data: { n: 1 } },
      { op: "put", collection: "notes", id: "crash-2", data: { n: 1 } },
    ]);
    await waitFor("the batch to be sent", () => (keys.length === 1 ? true : undefined));
    await first.close();

    const second = t.client({ storage: new FileStorage(path) });
    await second.flush();
    assert.equal(keys.length, 2);
    assert.equal(keys[1], keys[0]);
    for (const id of ["crash", "crash-2"]) {
      assert.equal(await t.version("notes", id), 1);
    }
  });

  test("drains exactly once through a sync instance killed mid-flight and its successor", async () => {
    let killed: Promise<void> | undefined;
    t.state.intercept = ({ url }, forward) => {
      const pending = forward();
      if (isBatch(url) && !killed) killed = t.sync.close();
      return pending;
    };
    const client = t.client({ storage: new MemoryStorage() });
    const writes = [];
    for (let n = 1; n <= 5; n++) {
      writes.push(client.put("notes", "k", { n }), client.put("notes", `k${n}`, { n }));
    }
    await Promise.all(writes);
    await waitFor("the instance to be killed", () => (killed ? true : undefined));
    await killed;
    const successor = await startSync({ projectId: t.sync.projectId });
    t.state.target = successor.url;
    t.sync = successor;
    await client.flush();
    const k = await t.document("notes", "k");
    assert.deepEqual(typeof k === "number" ? k : [k.data, k.version], [{ n: 5 }, 5]);
    for (let n = 1; n <= 5; n++) assert.equal(await t.version("notes", `k${n}`), 1);
  });

  test("waits as long as Retry-After says before trying again", async () => {
    const times: number[] = [];
    t.state.intercept = async ({ url }, forward) => {
      if (!isBatch(url)) return forward();
      times.push(Date.now());
      if (times.length > 1) return forward();
      return new Response(JSON.stringify({ error: { code: "unavailable", message: "busy" } }), {
        status: 503,
        headers: { "content-type": "application/json", "retry-after": "1" },
      });
    };
    const states: string[] = [];
    const client = t.client({ storage: new MemoryStorage() });
    client.on("sync-state", (state) => {
      if (state.kind === "outbox") states.push(state.state);
    });
    await client.put("notes", "later", { n: 1 });
    await client.flush();
    assert.equal(times.length, 2);
    assert.ok(
      (times[1] ?? 0) - (times[0] ?? 0) >= 950,
      `retried after ${(times[1] ?? 0) - (times[0] ?? 0)} ms`,
    );
    assert.ok(states.includes("waiting"));
    assert.equal(await t.version("notes", "later"), 1);
  });

  test("drains a long outbox at one storage write per batch, each change acknowledged", async () => {
    const writes: StorageOp[][] = [];
    const storage = new FileStorage(storagePath());
    const write = storage.write.bind(storage);
    storage.write = (ops) => {
      writes.push([...ops]);
      return write(ops);
    };
    const client = t.client({ storage, online: false, maxBatchChanges: 50 });
    let acks = 0;
    client.on("ack", () => acks++);
    await client.batch(
      Array.from({ length: 500 }, (_, n) => ({
        op: "put" as const,
        collection: "notes",
        id: `long-${n}`,
        data: { n },
      })),
    );
    writes.length = 0;
    client.setOnline(true);
    await client.flush();
    assert.equal(acks, 500);
    assert.equal(client.pending().length, 0);
    // Per batch: the batch persisted before it is sent, then its acknowledgements with it.
    assert.equal(writes.length, 20);
    assert.equal(await t.version("notes", "long-0"), 1);
    assert.equal(await t.version("notes", "long-499"), 1);
    assert.deepEqual(client.get("notes", "long-499")?.data, { n: 499 });
    assert.equal(client.get("notes", "long-499")?.pending, false);
  });

  test("acknowledges the rest of a batch one of whose changes is refused", async () => {
    const client = t.client({ storage: new MemoryStorage(), online: false });
    const refused: string[] = [];
    client.on("rejected", (event) => refused.push(`${event.change.id} ${event.status}`));
    await client.batch([
      { op: "put", collection: "notes", id: "fine-1", data: { n: 1 } },
      { op: "delete", collection: "notes", id: "never-written" },
      { op: "put", collection: "notes", id: "fine-2", data: { n: 2 } },
    ]);
    client.setOnline(true);
    await client.flush();
    assert.deepEqual(refused, ["never-written 404"]);
    assert.equal(await t.version("notes", "fine-1"), 1);
    assert.equal(await t.version("notes", "fine-2"), 1);
    assert.equal(client.pending().length, 0);
  });
});
