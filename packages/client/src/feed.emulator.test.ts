import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { waitFor } from "@syncstack/shared/testing";
import { FileStorage, MemoryStorage, type SyncState } from "./node.ts";
import { startClientTest, storagePath } from "./testing/client-fixture.ts";

let t: Awaited<ReturnType<typeof startClientTest>>;

before(async () => {
  t = await startClientTest();
});
after(() => t.close());
beforeEach(() => t.sync.resetFirestore());

const write = (document: string, data: Record<string, unknown>) =>
  t.sync.post("/v1/sync", { collection: "notes", document, data });

describe("subscribe", () => {
  test("keeps the cache current through the live stream, and resumes from its cursor", async () => {
    const path = storagePath();
    const client = t.client({ storage: new FileStorage(path) });
    const states: SyncState[] = [];
    client.on("sync-state", (state) => states.push(state));
    const changes: string[] = [];
    client.on("change", (event) => changes.push(`${event.id}:${event.doc?.version ?? "gone"}`));
    const stop = client.subscribe("notes");
    await write("a", { title: "a" });
    await waitFor("a in the cache", () => client.get("notes", "a"));
    await write("a", { done: true });
    await write("b", { title: "b" });
    await waitFor("a at version 2", () =>
      client.get("notes", "a")?.version === 2 ? true : undefined,
    );
    await waitFor("b", () => client.get("notes", "b"));
    assert.deepEqual(client.get("notes", "a")?.data, { title: "a", done: true });
    const deleted = await t.sync.request("/v1/documents/notes/b", { method: "DELETE" });
    assert.equal(deleted.status, 200);
    await waitFor("b gone", () => (client.get("notes", "b") === undefined ? true : undefined));
    // The change event follows the cache's update once it is persisted.
    await waitFor("b's delete event", () => (changes.includes("b:gone") ? true : undefined));
    assert.deepEqual(
      client.list("notes").map((doc) => doc.id),
      ["a"],
    );
    // A feed carries each document's latest state: a version may be passed over, never the last.
    assert.ok(changes.includes("a:2") && changes.includes("b:gone"), changes.join(" "));
    assert.ok(states.some((s) => s.kind === "feed" && s.state === "streaming"));
    await stop();
    await client.close();

    // The copy and the cursor survive a restart: the next client reads only what is new.
    const next = t.client({ storage: new FileStorage(path) });
    await next.ready;
    assert.deepEqual(next.get("notes", "a")?.data, { title: "a", done: true });
    const requests: string[] = [];
    t.state.intercept = ({ url, init }, forward) => {
      const headers = (init.headers ?? {}) as Record<string, string>;
      requests.push(headers["last-event-id"] ? `${url}#last-event-id` : url);
      return forward();
    };
    next.subscribe("notes");
    await write("c", { title: "c" });
    await waitFor("c", () => next.get("notes", "c"));
    t.state.intercept = undefined;
    assert.ok(
      requests.every((url) => url.includes("since=") || url.endsWith("#last-event-id")),
      "every read resumes from the cursor",
    );
  });

  test("falls back to polling the JSON feed when the server answers no stream", async () => {
    // A proxy that drops the Accept header: the server answers the JSON feed.
    t.state.intercept = ({ init }, forward) => {
      const headers = { ...((init.headers ?? {}) as Record<string, string>) };
      delete headers.accept;
      init.headers = headers;
      return forward();
    };
    const client = t.client({ storage: new MemoryStorage() });
    const states: SyncState[] = [];
    client.on("sync-state", (state) => states.push(state));
    const stop = client.subscribe("notes");
    await write("p", { title: "p" });
    await waitFor("p in the cache", () => client.get("notes", "p"));
    await write("p", { done: true });
    await waitFor("p at version 2", () =>
      client.get("notes", "p")?.version === 2 ? true : undefined,
    );
    assert.ok(states.some((s) => s.kind === "feed" && s.state === "polling"));
    assert.ok(!states.some((s) => s.kind === "feed" && s.state === "streaming"));
    t.state.intercept = undefined;
    await stop();
    await client.close();
  });

  test("a 410 clears the cache and resyncs from the start", async () => {
    const storage = new MemoryStorage();
    // A copy left by a client that was away longer than the tombstone retention.
    const oldCursor = Buffer.from(JSON.stringify({ s: 1, n: 0, id: "x" })).toString("base64url");
    await storage.write([
      {
        type: "set",
        key: "cache/notes/stale",
        value: {
          data: { old: true },
          version: 1,
          created_by: "alice",
          sync_source: null,
          updated_at: null,
        },
      },
      { type: "set", key: "cursor/notes", value: oldCursor },
    ]);
    await write("fresh", { title: "fresh" });
    const client = t.client({ storage });
    const states: string[] = [];
    client.on("sync-state", (state) => {
      if (state.kind === "feed") states.push(state.state);
    });
    await client.ready;
    assert.deepEqual(client.get("notes", "stale")?.data, { old: true });
    client.subscribe("notes");
    await waitFor("fresh", () => client.get("notes", "fresh"));
    assert.equal(client.get("notes", "stale"), undefined);
    assert.ok(states.includes("resyncing"));
    const [[, cursor]] = (await storage.entries("cursor/notes")) as [[string, string]];
    assert.notEqual(cursor, oldCursor);
  });

  test("shows pending writes on top of the cache, offline and after the acknowledgement", async () => {
    await write("o", { title: "server", tags: ["x"] });
    const client = t.client({ storage: new MemoryStorage() });
    client.subscribe("notes");
    await waitFor("o", () => client.get("notes", "o"));
    client.setOnline(false);
    await client.patch("notes", "o", { tags: null, title: "local" });
    await client.put("notes", "new", { title: "new" });
    assert.deepEqual(client.get("notes", "o"), {
      ...client.get("notes", "o"),
      data: { title: "local" },
      version: 1,
      pending: true,
    });
    assert.equal(client.get("notes", "new")?.pending, true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await t.version("notes", "o"), 1, "nothing is sent while offline");
    client.setOnline(true);
    await client.flush();
    assert.deepEqual(
      [
        client.get("notes", "o")?.data,
        client.get("notes", "o")?.version,
        client.get("notes", "o")?.pending,
      ],
      [{ title: "local" }, 2, false],
    );
    assert.equal(client.get("notes", "new")?.version, 1);
    const stored = await t.document("notes", "o");
    assert.deepEqual(typeof stored === "number" ? stored : stored.data, { title: "local" });
  });
});
