import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, beforeEach, describe, test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { AccessRules, serve } from "@syncstack/shared";
import { waitFor, withoutTraceId } from "@syncstack/shared/testing";
import {
  type Cursor,
  compareCursors,
  decodeCursor,
  encodeCursor,
  positionOf,
} from "./change-feed.ts";
import { clockOf, commitLate, before as earlier } from "./testing/late-commit.ts";
import { openSse, type SseStream } from "./testing/sse.ts";
import { startSync } from "./testing/sync-fixture.ts";

const rules = new AccessRules({
  projects: { policy: "members", members_field: "members" },
  posts: { policy: "shared-read" },
  flags: { policy: "admin-only" },
});

type Sync = Awaited<ReturnType<typeof startSync>>;
let sync: Sync;
const opened: SseStream[] = [];

before(async () => {
  sync = await startSync({ rules });
});
after(async () => {
  for (const stream of opened) stream.close();
  await sync.close();
});
beforeEach(() => sync.resetFirestore());

/** A second sync instance on the same project, with settings of its own; closed by the caller. */
function anotherInstance(env: Record<string, string> = {}): Promise<Sync> {
  return startSync({ rules, projectId: sync.projectId, unsubscribed: true, env });
}

/** Opens a change stream on `instance` as `uid` (alice by default). */
async function open(
  query: string,
  options: { instance?: Sync; uid?: string; admin?: boolean; lastEventId?: string } = {},
): Promise<SseStream> {
  const instance = options.instance ?? sync;
  const token = instance.token(options.uid ?? "alice", options.admin ? { admin: true } : {});
  const stream = await openSse(`${instance.url}/v1/changes?${query}`, {
    authorization: `Bearer ${token}`,
    ...(options.lastEventId ? { "last-event-id": options.lastEventId } : {}),
  });
  opened.push(stream);
  return stream;
}

async function write(
  collection: string,
  document: string,
  data: Record<string, unknown>,
  uid = "alice",
  instance = sync,
): Promise<void> {
  const response = await instance.post("/v1/sync", { collection, document, data }, { uid });
  assert.equal(response.status, 200, await response.text());
}

const documents = (changes: Awaited<ReturnType<SseStream["waitForChanges"]>>) =>
  changes.map((change) => `${change.item.document}@${change.item.version}`);

/** Writes notes a and b, streams them and closes the stream: the event ids after each. */
async function idsAfterAAndB(): Promise<[string, string]> {
  await write("notes", "a", {});
  await write("notes", "b", {});
  const first = await open("collection=notes");
  const [afterA, afterB] = await first.waitForChanges(2);
  first.close();
  return [afterA?.id ?? "", afterB?.id ?? ""];
}

/** Every event id is a cursor after the one before it: nothing sent twice, nothing out of order. */
function assertIncreasing(stream: SseStream): void {
  let previous: Cursor | undefined;
  for (const { id } of stream.changes()) {
    const cursor = decodeCursor(id);
    if (previous)
      assert.ok(compareCursors(previous, cursor) < 0, `${id} is not after the previous`);
    previous = cursor;
  }
}

describe("GET /v1/changes as server-sent events", () => {
  test("a commit that becomes visible after one with a later clock is still sent, under the last id", async () => {
    const stream = await open("collection=notes", { admin: true });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await write("notes", "first", { n: 1 });
    const [first] = await stream.waitForChanges(1);
    const clock = (await sync.context.firestore.doc("notes/first").get()).get(
      "updated_at",
    ) as Timestamp;
    // A commit whose request came first (another instance's, or one in flight when the
    // listener started): an earlier server time, even before the listener's start, visible
    // only now.
    const earlier = Timestamp.fromMillis(clock.toMillis() - 2_000);
    await sync.context.firestore.doc("notes/late").create({
      data: { n: 2 },
      version: 1,
      sync_source: "other-instance",
      created_by: "alice",
      readers: { alice: earlier },
      created_at: earlier,
      updated_at: earlier,
    });
    const changes = await stream.waitForChanges(2);
    assert.deepEqual(documents(changes), ["first@1", "late@1"]);
    const [firstAt, lateAt] = [first?.id, changes[1]?.id].map((id) => decodeCursor(id ?? ""));
    assert.deepEqual(positionOf(lateAt as Cursor), positionOf(firstAt as Cursor), "no going back");
    await write("notes", "next", { n: 3 });
    const all = await stream.waitForChanges(3);
    assert.deepEqual(documents(all), ["first@1", "late@1", "next@1"]);
    // Resuming from the last id sends nothing the stream already sent.
    stream.close();
    const resumed = await open("collection=notes", { admin: true, lastEventId: all[1]?.id });
    assert.deepEqual(documents(await resumed.waitForChanges(1)), ["next@1"]);
    await write("notes", "after", { n: 4 });
    assert.deepEqual(documents(await resumed.waitForChanges(2)), ["next@1", "after@1"]);
  });

  test("a commit at or before the last id that became visible after it is sent once on resuming", async () => {
    const [, afterB] = await idsAfterAAndB();
    const db = sync.context.firestore;
    // Its request came before the read behind afterB's id; it became visible after it.
    await commitLate(db, [{ path: "notes/late", clock: earlier(await clockOf(db, "notes/b"), 1) }]);
    const resumed = await open("collection=notes", { lastEventId: afterB });
    assert.deepEqual(documents(await resumed.waitForChanges(1)), ["late@1"]);
    await write("notes", "c", {});
    const both = await resumed.waitForChanges(2);
    assert.deepEqual(documents(both), ["late@1", "c@1"]);
    resumed.close();
    // Resumed again, from either id, it is not sent again.
    const fromLate = await open("collection=notes", { lastEventId: both[0]?.id ?? "" });
    assert.deepEqual(documents(await fromLate.waitForChanges(1)), ["c@1"]);
    const fromLast = await open("collection=notes", { lastEventId: both[1]?.id ?? "" });
    await write("notes", "d", {});
    assert.deepEqual(documents(await fromLast.waitForChanges(1)), ["d@1"]);
    assert.deepEqual(documents(await fromLate.waitForChanges(2)), ["c@1", "d@1"]);
  });

  test("late commits of one snapshot: resuming from the first one's id sends the rest once", async () => {
    const stream = await open("collection=notes");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await write("notes", "a", {});
    await write("notes", "b", {});
    await stream.waitForChanges(2);
    const db = sync.context.firestore;
    const b = await clockOf(db, "notes/b");
    await commitLate(db, [
      { path: "notes/late1", clock: earlier(b, 2) },
      { path: "notes/late2", clock: earlier(b, 1) },
    ]);
    const changes = await stream.waitForChanges(4);
    assert.deepEqual(documents(changes), ["a@1", "b@1", "late1@1", "late2@1"]);
    const [atB, atLate1, atLate2] = changes.slice(1).map((change) => decodeCursor(change.id));
    for (const at of [atLate1, atLate2])
      assert.deepEqual(at && positionOf(at), atB && positionOf(atB), "the position stays at b");
    stream.close();
    const resumed = await open("collection=notes", { lastEventId: changes[2]?.id ?? "" });
    await write("notes", "c", {});
    assert.deepEqual(documents(await resumed.waitForChanges(2)), ["late2@1", "c@1"]);
  });

  test("resumes from an id issued before ids carried a read time", async () => {
    await write("notes", "a", {});
    await write("notes", "b", {});
    const first = await open("collection=notes");
    const [afterA] = await first.waitForChanges(1);
    const old = encodeCursor(positionOf(decodeCursor(afterA?.id ?? "")));
    const resumed = await open("collection=notes", { lastEventId: old });
    const [afterB] = await resumed.waitForChanges(1);
    assert.equal(afterB?.item.document, "b");
    assert.ok(decodeCursor(afterB?.id ?? "").r, "its ids carry one");
    await write("notes", "c", {});
    assert.deepEqual(documents(await resumed.waitForChanges(2)), ["b@1", "c@1"]);
  });

  test("sends what changed after the cursor, then every later change live", async () => {
    await write("notes", "a", { n: 1 });
    await write("notes", "b", { n: 2 });
    const stream = await open("collection=notes");
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get("content-type") ?? "", /^text\/event-stream/);
    assert.deepEqual(documents(await stream.waitForChanges(2)), ["a@1", "b@1"]);
    assert.deepEqual(stream.events[0], { retry: 1_000 });
    await write("notes", "c", { n: 3 });
    await write("notes", "a", { n: 4 });
    assert.deepEqual(documents(await stream.waitForChanges(4)), ["a@1", "b@1", "c@1", "a@2"]);
    const [first] = stream.changes();
    assert.deepEqual(first?.item.data, { n: 1 });
    assert.equal(first?.item.created_by, "alice");
    assertIncreasing(stream);
  });

  test("resumes from Last-Event-ID, which wins over since, with nothing missed or repeated", async () => {
    const [afterA, afterB] = await idsAfterAAndB();
    await write("notes", "c", {});
    await write("notes", "a", { again: true });
    const resumed = await open(`collection=notes&since=${afterA}`, {
      lastEventId: afterB,
    });
    assert.deepEqual(documents(await resumed.waitForChanges(2)), ["c@1", "a@2"]);
    await write("notes", "d", {});
    assert.deepEqual(documents(await resumed.waitForChanges(3)), ["c@1", "a@2", "d@1"]);
    const bySince = await open(`collection=notes&since=${afterB}`);
    assert.deepEqual(documents(await bySince.waitForChanges(3)), ["c@1", "a@2", "d@1"]);
    assertIncreasing(resumed);
  });

  test("writes racing the catch-up to live handover arrive once each, in order", async () => {
    const writes = (async () => {
      for (let round = 1; round <= 4; round++)
        await Promise.all(Array.from({ length: 8 }, (_, i) => write("notes", `d${i}`, { round })));
    })();
    const streams = [];
    for (let i = 0; i < 3; i++) {
      streams.push(await open("collection=notes"));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await writes;
    for (const stream of streams) {
      await waitFor("every document's last version", () => {
        const latest = new Map(stream.changes().map((c) => [c.item.document, c.item.version]));
        return latest.size === 8 && [...latest.values()].every((v) => v === 4) ? true : undefined;
      });
      assertIncreasing(stream);
      const seen = documents(stream.changes());
      assert.equal(new Set(seen).size, seen.length, `sent twice: ${seen}`);
    }
  });

  test("with a listener per stream, too, catch-up hands over to live exactly", async () => {
    const own = await anotherInstance({ STREAM_LISTENERS: "per-connection" });
    try {
      await write("notes", "a", {});
      const writes = Promise.all(["b", "c", "d"].map((id) => write("notes", id, {})));
      const stream = await open("collection=notes", { instance: own });
      await writes;
      await write("notes", "a", { again: true });
      const seen = documents(await stream.waitForChanges(5));
      assert.deepEqual(seen.slice(0, 1), ["a@1"]);
      assert.deepEqual([...seen].sort(), ["a@1", "a@2", "b@1", "c@1", "d@1"]);
      assertIncreasing(stream);
      stream.close();
    } finally {
      await own.close();
    }
  });

  test("a stream on one instance sees writes made through another", async () => {
    const other = await anotherInstance();
    try {
      const stream = await open("collection=notes", { instance: other });
      await write("notes", "from-a", { via: "a" });
      assert.deepEqual(documents(await stream.waitForChanges(1)), ["from-a@1"]);
      stream.close();
    } finally {
      await other.close();
    }
  });

  test("follows the access rules: no one else's documents, members see shared ones", async () => {
    const bob = await open("collection=notes", { uid: "bob" });
    const bobProjects = await open("collection=projects", { uid: "bob" });
    const bobPosts = await open("collection=posts", { uid: "bob" });
    const admin = await open("collection=notes", { uid: "ops", admin: true });
    await write("notes", "alice-private", { secret: true });
    await write("projects", "team", { members: ["bob"] });
    await write("projects", "solo", { members: [] });
    await write("posts", "p1", { text: "hi" });
    await write("notes", "bob-own", {}, "bob");
    assert.deepEqual(documents(await bob.waitForChanges(1)), ["bob-own@1"]);
    assert.deepEqual(documents(await bobProjects.waitForChanges(1)), ["team@1"]);
    assert.deepEqual(documents(await bobPosts.waitForChanges(1)), ["p1@1"]);
    assert.deepEqual(documents(await admin.waitForChanges(2)), ["alice-private@1", "bob-own@1"]);
    // Bob's own write came after alice's: had hers been sent to him it would be first.
    assert.equal(bob.changes().length, 1);
    assert.equal(bobProjects.changes().length, 1);
    const refused = await open("collection=flags", { uid: "bob" });
    assert.equal(refused.status, 403);
    assert.match(JSON.stringify(await refused.json()), /admin-only/);
  });

  test("sends deletes as tombstones", async () => {
    await write("notes", "gone", { x: 1 });
    const stream = await open("collection=notes");
    await stream.waitForChanges(1);
    const deleted = await sync.request("/v1/documents/notes/gone", { method: "DELETE" });
    assert.equal(deleted.status, 200);
    const [, tombstone] = await stream.waitForChanges(2);
    assert.deepEqual(
      { document: tombstone?.item.document, deleted: tombstone?.item.deleted },
      { document: "gone", deleted: true },
    );
    assert.equal("data" in (tombstone?.item ?? {}), false);
  });

  test("answers a bad or expired cursor with a JSON error before streaming", async () => {
    const old = Math.floor(Date.now() / 1_000) - 40 * 86_400;
    const expired = await open(`collection=notes&since=${encodeCursor({ s: old, n: 0, id: "x" })}`);
    assert.equal(expired.status, 410);
    assert.equal(((await expired.json()) as { error: { code: string } }).error.code, "gone");
    const stale = await open("collection=notes", {
      lastEventId: encodeCursor({ s: old, n: 0, id: "x" }),
    });
    assert.equal(stale.status, 410);
    const garbage = await open("collection=notes", { lastEventId: "garbage" });
    assert.equal(garbage.status, 400);
    assert.deepEqual(withoutTraceId(await garbage.json()), {
      error: {
        code: "invalid_argument",
        message: "Last-Event-ID is not a cursor this API returned",
      },
    });
    const unauthenticated = await openSse(`${sync.url}/v1/changes?collection=notes`, {});
    assert.equal(unauthenticated.status, 401);
  });
});

describe("change streams on Cloud Run", () => {
  test("pings while idle and ends at the lifetime with a reconnect hint", async () => {
    const short = await anotherInstance({
      STREAM_HEARTBEAT_MS: "50",
      STREAM_MAX_LIFETIME_MS: "600",
    });
    try {
      const stream = await open("collection=notes", { instance: short });
      await stream.waitForEvent((event) => event.comment === "ping");
      await stream.ended;
      const end = stream.events.at(-1);
      assert.equal(end?.event, "end");
      assert.deepEqual(JSON.parse(end?.data ?? ""), { reason: "lifetime", retry_ms: 0 });
    } finally {
      await short.close();
    }
  });

  test("ends streams with a shutdown event when the server drains", async () => {
    const instance = await anotherInstance();
    const served = await serve(instance.app, {
      port: 0,
      logger: instance.context.logger,
      graceMs: 10_000,
      onDrain: () => instance.definition.streams.drain(),
    });
    try {
      const stream = await openSse(`http://127.0.0.1:${served.port}/v1/changes?collection=notes`, {
        authorization: `Bearer ${instance.token("alice")}`,
      });
      opened.push(stream);
      await stream.waitForEvent((event) => event.retry !== undefined);
      const started = Date.now();
      await served.shutdown();
      assert.ok(Date.now() - started < 5_000, "the drain did not wait for the grace period");
      await stream.ended;
      const end = stream.events.at(-1);
      const { reason, retry_ms } = JSON.parse(end?.data ?? "");
      assert.equal(reason, "shutdown");
      assert.ok(retry_ms >= 1_000 && retry_ms < 5_000, `retry_ms ${retry_ms} is 1-5 s`);
    } finally {
      await instance.close();
    }
  });

  test("refuses a stream past the connection limit with 503 and Retry-After", async () => {
    const limited = await anotherInstance({ STREAM_MAX_CONNECTIONS: "1" });
    try {
      const first = await open("collection=notes", { instance: limited });
      assert.equal(first.status, 200);
      const second = await open("collection=notes", { instance: limited, uid: "bob" });
      assert.equal(second.status, 503);
      assert.equal(second.headers.get("retry-after"), "1");
      assert.match(JSON.stringify(await second.json()), /limit of 1 change streams/);
      first.close();
      await waitFor("the stream closed", () =>
        limited.definition.streams.size === 0 ? true : undefined,
      );
      const third = await open("collection=notes", { instance: limited, uid: "bob" });
      assert.equal(third.status, 200);
    } finally {
      await limited.close();
    }
  });

  test("disconnects a client that does not read rather than queueing for it", async () => {
    const capped = await anotherInstance({ STREAM_MAX_BUFFER_BYTES: "65536" });
    let socket: Socket | undefined;
    try {
      // A client that reads gets a change larger than the cap: the cap is on what is queued.
      const reader = await open("collection=notes", { instance: capped });
      await write("notes", "large", { big: "y".repeat(256 * 1_024) }, "alice", capped);
      assert.deepEqual(documents(await reader.waitForChanges(1)), ["large@1"]);
      reader.close();
      await waitFor("the reader gone", () =>
        capped.definition.streams.size === 0 ? true : undefined,
      );
      socket = connect(Number(new URL(capped.url).port), "127.0.0.1");
      socket.pause();
      await new Promise((resolve) => socket?.once("connect", resolve));
      socket.write(
        `GET /v1/changes?collection=notes HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nauthorization: Bearer ${capped.token("alice")}\r\n\r\n`,
      );
      await waitFor("the stream opened", () =>
        capped.definition.streams.size === 1 ? true : undefined,
      );
      const big = "x".repeat(512 * 1_024);
      for (let i = 0; i < 40 && capped.definition.streams.size > 0; i++) {
        await write("notes", `big${i}`, { big }, "alice", capped);
      }
      await waitFor("the slow client disconnected", () =>
        capped.definition.streams.size === 0 ? true : undefined,
      );
      assert.ok(
        capped.logs.some(
          (entry) => entry.message === "change stream ended" && entry.reason === "slow",
        ),
      );
    } finally {
      socket?.destroy();
      await capped.close();
    }
  });
});

describe("catching up from the instance's listener", () => {
  const fromListener = (instance = sync) => instance.definition.streams.catchUps.fromListener;

  test("a stream resuming from a recent id gets what it missed from the listener, without a read, exactly", async () => {
    const [, afterB] = await idsAfterAAndB();
    const db = sync.context.firestore;
    const bClock = await clockOf(db, "notes/b");
    // Another of alice's streams shares the listener: once it has the changes, so has the
    // listener's snapshot (else they would reach the resumed stream live, proving less).
    const watcher = await open(`collection=notes&since=${afterB}`);
    // Missed while away: an update, a new document, a delete, and a commit at or before the
    // last id that became visible after it.
    await write("notes", "a", { again: true });
    await write("notes", "c", {});
    const deleted = await sync.request("/v1/documents/notes/b", { method: "DELETE" });
    assert.equal(deleted.status, 200);
    await commitLate(db, [{ path: "notes/late", clock: earlier(bClock, 1) }]);
    await watcher.waitForChanges(4);
    const before = fromListener();
    const resumed = await open("collection=notes", { lastEventId: afterB });
    const caughtUp = await resumed.waitForChanges(4);
    assert.equal(fromListener(), before + 1, "caught up from the listener");
    assert.deepEqual(documents(caughtUp), ["late@1", "a@2", "c@1", "b@2"]);
    assert.equal(caughtUp[3]?.item.deleted, true);
    await write("notes", "d", {});
    assert.deepEqual(documents(await resumed.waitForChanges(5)).slice(4), ["d@1"]);
    resumed.close();
    // From its last id, nothing again.
    const again = await open("collection=notes", { lastEventId: resumed.changes()[4]?.id ?? "" });
    await write("notes", "e", {});
    assert.deepEqual(documents(await again.waitForChanges(1)), ["e@1"]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(again.changes().length, 1);
  });

  test("a cursor from before the listener started is caught up with a read, exactly", async () => {
    // Carol's feed of her drafts has had no stream, so no listener.
    await write("drafts", "d1", {}, "carol");
    const page = await sync.get("/v1/changes?collection=drafts", { uid: "carol" });
    const { next_cursor: cursor } = (await page.json()) as { next_cursor: string };
    await write("drafts", "d2", {}, "carol");
    const before = fromListener();
    // Its read time is before the listener starts: a snapshot cannot tell what it missed.
    const stream = await open(`collection=drafts&since=${cursor}`, { uid: "carol" });
    assert.deepEqual(documents(await stream.waitForChanges(1)), ["d2@1"]);
    assert.equal(fromListener(), before, "read, not from the listener");
    await write("drafts", "d3", {}, "carol");
    assert.deepEqual(documents(await stream.waitForChanges(2)), ["d2@1", "d3@1"]);
  });

  test("the listener stays STREAM_LISTENER_LINGER_MS after the feed's last stream, then stops", async () => {
    const instance = await anotherInstance({ STREAM_LISTENER_LINGER_MS: "1000" });
    try {
      const { live } = instance.definition.streams;
      const stream = await open("collection=notes", { instance });
      await write("notes", "x", {});
      await stream.waitForChanges(1);
      stream.close();
      await waitFor("the stream's end", () => instance.definition.streams.size === 0 || undefined);
      assert.equal(live.listeners, 1, "kept after the last stream");
      const resumed = await open("collection=notes", {
        instance,
        lastEventId: stream.changes()[0]?.id ?? "",
      });
      await write("notes", "y", {});
      assert.deepEqual(documents(await resumed.waitForChanges(1)), ["y@1"]);
      assert.equal(fromListener(instance), 1);
      resumed.close();
      await waitFor("the listener's stop", () => live.listeners === 0 || undefined, 5_000);
    } finally {
      await instance.close();
    }
  });
});
