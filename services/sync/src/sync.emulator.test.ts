import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import {
  AppError,
  closeServiceContext,
  createServiceApp,
  createServiceContext,
  loadConfig,
  type Publisher,
  type RealtimeUpdate,
  realtimeUpdates,
  userCreated,
} from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import {
  type Collector,
  collectMessages,
  emulatorIdToken,
  listen,
  memoryLogger,
  resetFirestore,
  testEnv,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import { syncService } from "./app.ts";
import { syncEnvSchema } from "./config.ts";
import { Outbox, outboxCollection, type PendingEvent } from "./outbox.ts";

const projectId = testProjectId();
const config = (extra: Record<string, string> = {}) =>
  loadConfig(
    syncEnvSchema,
    testEnv(projectId, {
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
      OUTBOX_SWEEP_AGE_MS: "0",
      BODY_LIMIT_BYTES: String(2 * 1_048_576),
      ...extra,
    }),
  );
const ctx = createServiceContext("sync", config(), { logger: memoryLogger(projectId).logger });
const service = syncService(ctx);
const token = emulatorIdToken(projectId, "alice");

let server: Awaited<ReturnType<typeof listen>>;
let events: Collector;
let runs = 0;

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function eventsFor(document: string, count: number): Promise<RealtimeUpdate[]> {
  return waitFor(`${count} events for ${document}`, () => {
    const found = events.payloads<RealtimeUpdate>().filter((event) => event.document === document);
    return found.length >= count ? found : undefined;
  });
}

before(async () => {
  server = await listen(createServiceApp(ctx, service));
  await provisionTopology(ctx.pubsub, [realtimeUpdates, userCreated], {
    serviceUrls: { sync: server.url },
    nativePolicies: false,
  });
  events = await collectMessages(ctx.pubsub, realtimeUpdates.name);
});
after(async () => {
  await events.close();
  await service.outbox.drain();
  await server.close();
  await closeServiceContext(ctx);
});
beforeEach(async () => {
  await resetFirestore(projectId);
  runs++;
});

describe("POST /v1/sync", () => {
  test("creates the document as the contract says and publishes one ordered create event", async () => {
    const response = await post("/v1/sync", {
      collection: "notes",
      document: "n1",
      data: { title: "hi" },
      source: "ios",
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.success, true);
    assert.equal(body.message, "Data synchronized successfully");
    assert.equal(body.version, 1);
    assert.equal(body.op, "create");
    const doc = await ctx.firestore.doc("notes/n1").get();
    assert.deepEqual(doc.get("data"), { title: "hi" });
    assert.equal(doc.get("version"), 1);
    assert.equal(doc.get("sync_source"), "ios");
    assert.ok((doc.get("updated_at") as Timestamp).toMillis() > 0, "updated_at is a Timestamp");
    assert.ok((doc.get("created_at") as Timestamp).toMillis() > 0, "created_at is a Timestamp");
    const [event] = await eventsFor("n1", 1);
    assert.deepEqual(
      { ...event, timestamp: undefined },
      {
        collection: "notes",
        document: "n1",
        op: "create",
        version: 1,
        source: "ios",
        uid: "alice",
        timestamp: undefined,
      },
    );
    assert.equal(
      event?.timestamp,
      doc.updateTime?.toDate().toISOString(),
      "the event time is the commit time",
    );
    const message = events.messages.find((m) => m.data.toString().includes('"n1"'));
    assert.equal(message?.orderingKey, "notes/n1");
    assert.equal(message?.attributes.schema_version, "1");
  });

  test("deep-merges later writes, bumps the version by one and reports updates", async () => {
    await post("/v1/sync", {
      collection: "notes",
      document: "m",
      data: { a: { b: 1, c: 2 }, list: [1, 2], keep: true },
    });
    const second = await post("/v1/sync", {
      collection: "notes",
      document: "m",
      data: { a: { c: 3, d: { e: 4 } }, list: [3] },
    });
    assert.equal(second.status, 200);
    assert.equal(((await second.json()) as { version: number }).version, 2);
    const doc = await ctx.firestore.doc("notes/m").get();
    assert.deepEqual(doc.get("data"), { a: { b: 1, c: 3, d: { e: 4 } }, list: [3], keep: true });
    assert.equal(doc.get("sync_source"), "unknown");
    const updates = await eventsFor("m", 2);
    assert.deepEqual(
      updates.map((e) => [e.op, e.version]),
      [
        ["create", 1],
        ["update", 2],
      ],
    );
  });

  test("rejects bad input naming the field, writing and publishing nothing", async () => {
    const cases: [unknown, number, RegExp][] = [
      [{ document: "d", data: {} }, 400, /collection is required/],
      [{ collection: "notes", data: {} }, 400, /document is required/],
      [{ collection: "notes", document: "d" }, 400, /data must be a JSON object/],
      [{ collection: "a/b", document: "d", data: {} }, 400, /collection must not contain "\/"/],
      [
        { collection: "notes", document: "..", data: {} },
        400,
        /document must not be "\." or "\.\."/,
      ],
      [{ collection: "__x__", document: "d", data: {} }, 400, /collection must not match __\.\*__/],
      [
        { collection: "notes", document: "d".repeat(1_501), data: {} },
        400,
        /document must be at most 1500 bytes/,
      ],
      [{ collection: "notes", document: "d", data: [1] }, 400, /data must be a JSON object/],
      [{ collection: "notes", document: "d", data: { __name__: 1 } }, 400, /reserved field name/],
      [
        { collection: "notes", document: "d", data: nested(25) },
        400,
        /nested deeper than 20 levels/,
      ],
      [
        { collection: "notes", document: "d", data: { big: "x".repeat(1_100_000) } },
        400,
        /data is larger than/,
      ],
      [{ collection: "notes", document: "d", data: {}, source: 5 }, 400, /source/],
      [
        { collection: "users", document: "d", data: {} },
        403,
        /collection users is owned by syncstack/,
      ],
      [{ collection: "_outbox", document: "d", data: {} }, 403, /owned by syncstack/],
      // Found by the fuzzer: each of these was a 503 or a silently altered write.
      [{ collection: "notes", document: "\udc00\ud800", data: {} }, 400, /document has a lone/],
      [{ collection: "notes", document: "d", data: { t: "a\ud800" } }, 400, /data\.t has a lone/],
      [{ collection: "notes", document: "d", data: { "\udfff": 1 } }, 400, /field name that has/],
      [{ collection: "notes", document: "d", data: {}, source: "\ud800" }, 400, /source has a/],
      [
        { collection: "notes", document: "d", data: JSON.parse('{"a":{"constructor":[]}}') },
        400,
        /data\.a\.constructor uses a field name that cannot be updated/,
      ],
    ];
    for (const [body, status, message] of cases) {
      const response = await post("/v1/sync", body);
      assert.equal(response.status, status, JSON.stringify(body).slice(0, 80));
      const { error } = (await response.json()) as { error: { message: string } };
      assert.match(error.message, message);
    }
    assert.equal((await post("/v1/sync", "{oops")).status, 400);
    assert.equal(
      (await post("/v1/sync", "collection=a", { "content-type": "text/plain" })).status,
      415,
    );
    assert.equal((await post("/v1/sync", { data: "x".repeat(3 * 1_048_576) })).status, 413);
    const badIfMatch = await post(
      "/v1/sync",
      { collection: "notes", document: "d", data: {} },
      {
        "if-match": '"99999999999999999999999"',
      },
    );
    assert.equal(badIfMatch.status, 400, "a version past 2^53 is no version");
    const written = await ctx.firestore.collection("notes").get();
    assert.equal(written.size, 0);
    const outbox = await ctx.firestore.collection(outboxCollection).get();
    assert.equal(outbox.size, 0, "nothing was published or queued");
  });

  test("needs a valid Firebase ID token", async () => {
    const body = { collection: "notes", document: "t", data: {} };
    const noToken = await fetch(`${server.url}/v1/sync`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.equal(noToken.status, 401);
    const bad = [
      "not-a-jwt",
      emulatorIdToken("demo-other", "alice"),
      emulatorIdToken(projectId, "alice", { exp: Math.floor(Date.now() / 1_000) - 3_600 }),
      emulatorIdToken(projectId, "alice", { iss: "https://evil.example" }),
      emulatorIdToken(projectId, "", {}),
    ];
    for (const value of bad) {
      const response = await post("/v1/sync", body, { authorization: `Bearer ${value}` });
      assert.equal(response.status, 401, value.slice(0, 40));
    }
    assert.equal((await ctx.firestore.collection("notes").get()).size, 0);
  });

  test("an expected version that is not current fails with 409 and the current version", async () => {
    await post("/v1/sync", { collection: "notes", document: "v", data: { n: 1 } });
    const stale = await post(
      "/v1/sync",
      { collection: "notes", document: "v", data: { n: 2 } },
      { "if-match": '"0"' },
    );
    assert.equal(stale.status, 409);
    const { error } = (await stale.json()) as { error: { details: { current_version: number } } };
    assert.equal(error.details.current_version, 1);
    const fresh = await post("/v1/sync", {
      collection: "notes",
      document: "v",
      data: { n: 3 },
      expected_version: 1,
    });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get("etag"), '"2"');
    assert.deepEqual((await ctx.firestore.doc("notes/v").get()).get("data"), { n: 3 });
  });

  test("a retried request with the same Idempotency-Key changes nothing and answers the same", async () => {
    const body = { collection: "notes", document: "i", data: { n: 1 } };
    const first = await post("/v1/sync", body, { "idempotency-key": "key-1" });
    const firstBody = await first.json();
    const again = await post("/v1/sync", body, { "idempotency-key": "key-1" });
    assert.equal(again.status, 200);
    assert.equal(again.headers.get("idempotent-replayed"), "true");
    assert.deepEqual(await again.json(), firstBody);
    const other = await post(
      "/v1/sync",
      { ...body, data: { n: 2 } },
      { "idempotency-key": "key-1" },
    );
    assert.equal(other.status, 422);
    const doc = await ctx.firestore.doc("notes/i").get();
    assert.equal(doc.get("version"), 1);
    assert.deepEqual(doc.get("data"), { n: 1 });
    await eventsFor("i", 1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(events.payloads<RealtimeUpdate>().filter((e) => e.document === "i").length, 1);
  });

  test("two instances writing one document alternately keep versions exact (stale knowledge is re-read)", async () => {
    const otherCtx = createServiceContext("sync", config(), {
      logger: memoryLogger(projectId).logger,
    });
    const other = syncService(otherCtx);
    const otherServer = await listen(createServiceApp(ctx, other));
    const via = (url: string, data: object) =>
      fetch(`${url}/v1/sync`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ collection: "notes", document: "shared", data }),
      }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as { version: number; op: string },
      }));
    try {
      const results = [
        await via(server.url, { a: 1 }),
        await via(otherServer.url, { b: 2 }),
        await via(server.url, { c: 3 }),
        await via(otherServer.url, { d: 4 }),
      ];
      assert.deepEqual(
        results.map((r) => [r.status, r.body.version, r.body.op]),
        [
          [200, 1, "create"],
          [200, 2, "update"],
          [200, 3, "update"],
          [200, 4, "update"],
        ],
      );
      assert.deepEqual((await ctx.firestore.doc("notes/shared").get()).get("data"), {
        a: 1,
        b: 2,
        c: 3,
        d: 4,
      });
    } finally {
      await other.outbox.drain();
      await otherCtx.publisher.close();
      await otherServer.close();
    }
  });

  test("20 concurrent writes to one document all land with 20 versions and 20 events in order", async () => {
    const write = async (n: number) => {
      for (let attempt = 0; attempt < 20; attempt++) {
        const response = await post("/v1/sync", {
          collection: "notes",
          document: "hot",
          data: { [`w${n}`]: n },
        });
        if (response.status === 200) return;
        assert.ok([409, 503].includes(response.status), `retryable status, got ${response.status}`);
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 50));
      }
      throw new Error(`write ${n} never landed`);
    };
    await Promise.all(Array.from({ length: 20 }, (_, n) => write(n)));
    const doc = await ctx.firestore.doc("notes/hot").get();
    assert.equal(doc.get("version"), 20);
    assert.equal(Object.keys(doc.get("data") as object).length, 20);
    const hot = await eventsFor("hot", 20);
    assert.deepEqual(
      hot.map((e) => e.version),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });
});

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 1 };
  for (let i = 0; i < depth; i++) value = { n: value };
  return value;
}

describe("the outbox", () => {
  test("an answer does not wait for its event's publish, unless the backlog is full", async () => {
    const outbox = new Outbox(ctx.firestore, ctx.publisher, memoryLogger(projectId).logger, {
      deadlineMs: 10_000,
      sweepAgeMs: 60_000,
      publishWaitMs: 200,
      maxBacklog: 1,
    });
    const event = (n: number): PendingEvent => ({
      collection: "notes",
      document: `backlog-${n}`,
      op: "create",
      version: 1,
      source: "test",
      uid: "alice",
    });
    const handed = [1, 2].map((n) =>
      outbox.afterCommit(outbox.add(ctx.firestore.batch(), [event(n)]), event(n), Timestamp.now()),
    );
    const state = (promise: Promise<void> | undefined) =>
      Promise.race([
        promise?.then(() => "handed over"),
        new Promise((resolve) => setImmediate(() => resolve("waiting"))),
      ]);
    assert.equal(await state(handed[0]), "handed over", "the event is safe in the outbox");
    assert.equal(await state(handed[1]), "waiting", "one event is already being published");
    await handed[1];
    await eventsFor("backlog-2", 1);
    await eventsFor("backlog-1", 1);
    await outbox.drain();
  });

  test("after a failed publish, a document's later events wait and go out in order with the sweep", async () => {
    let failures = 1;
    // Pub/Sub refuses one publish, then works: the real publisher behind a one-time failure.
    const flaky = Object.create(ctx.publisher) as Publisher;
    flaky.publish = (topic, payload, options) => {
      if (failures-- > 0) return Promise.reject(new AppError("unavailable", "Pub/Sub is down"));
      return ctx.publisher.publish(topic, payload, options);
    };
    const outbox = new Outbox(ctx.firestore, flaky, memoryLogger(projectId).logger, {
      deadlineMs: 10_000,
      sweepAgeMs: 60_000,
    });
    const event = (document: string, version: number): PendingEvent => ({
      collection: "notes",
      document,
      op: version === 1 ? "create" : "update",
      version,
      source: "test",
      uid: "alice",
    });
    const hand = (document: string, version: number) =>
      outbox.published(
        outbox.add(ctx.firestore.batch(), [event(document, version)]),
        event(document, version),
        Timestamp.now(),
      );
    await hand("stuck", 1); // refused
    await hand("stuck", 2);
    await hand("stuck", 3);
    await hand("free", 1);
    await eventsFor("free", 1);
    assert.equal(
      events.payloads<RealtimeUpdate>().some((e) => e.document === "stuck"),
      false,
      "nothing of the blocked document overtook its refused event",
    );
    assert.equal(await outbox.sweep(), 3);
    await hand("stuck", 4); // live again
    const stuck = await eventsFor("stuck", 4);
    assert.deepEqual(
      stuck.map((e) => e.version),
      [1, 2, 3, 4],
    );
    await outbox.drain();
  });

  test("delivers an event after Pub/Sub was down during the write", async () => {
    const deadPubsub = new PubSub({ projectId, apiEndpoint: "127.0.0.1:9", emulatorMode: true });
    const downCtx = createServiceContext("sync", config({ DEADLINE_MS: "1500" }), {
      logger: memoryLogger(projectId).logger,
      pubsub: deadPubsub,
    });
    const down = syncService(downCtx);
    const downServer = await listen(createServiceApp(downCtx, down));
    try {
      const response = await fetch(`${downServer.url}/v1/sync`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ collection: "notes", document: "outage", data: { n: 1 } }),
      });
      assert.equal(response.status, 200, "the write commits even though Pub/Sub is down");
      await down.outbox.drain();
    } finally {
      await downServer.close();
      await downCtx.publisher.close();
      await deadPubsub.close();
    }
    const pending = await ctx.firestore.collection(outboxCollection).get();
    assert.equal(pending.size, 1);
    assert.equal(
      events.payloads<RealtimeUpdate>().some((e) => e.document === "outage"),
      false,
    );

    assert.equal(await service.outbox.sweep(), 1);
    const [event] = await eventsFor("outage", 1);
    assert.equal(event?.version, 1);
    const emptied = await waitFor("published entry removed from the outbox", async () => {
      const left = await ctx.firestore.collection(outboxCollection).get();
      return left.empty ? true : undefined;
    });
    assert.equal(emptied, true);
  });

  test("a crash between commit and publish loses nothing: the next start-up sweep publishes", async () => {
    const crashing = syncService(
      createServiceContext("sync", config(), { logger: memoryLogger(projectId).logger }),
    );
    // The process dies right after the commit: nothing is published.
    crashing.outbox.published = async () => {};
    const crashServer = await listen(createServiceApp(ctx, crashing));
    for (const version of [1, 2, 3]) {
      const response = await fetch(`${crashServer.url}/v1/sync`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ collection: "notes", document: "crash", data: { version } }),
      });
      assert.equal(response.status, 200);
    }
    await crashServer.close();
    assert.equal(
      events.payloads<RealtimeUpdate>().some((e) => e.document === "crash"),
      false,
    );

    const restarted = syncService(ctx);
    const stop = restarted.start?.();
    const crash = await eventsFor("crash", 3);
    assert.deepEqual(
      crash.map((e) => e.version),
      [1, 2, 3],
      "oldest first, in order",
    );
    await stop?.();
  });
});

describe("POST /v1/sync:batch", () => {
  test("applies each change on its own and reports it, telling permanent from temporary failures", async () => {
    const response = await post("/v1/sync:batch", {
      changes: [
        { collection: "notes", document: "b1", data: { n: 1 } },
        { collection: "notes", document: "b/1", data: {} },
        { collection: "users", document: "x", data: {} },
        { collection: "notes", document: "b1", data: { m: 2 } },
        { collection: "notes", document: "b2", data: { n: 3 }, expected_version: 4 },
      ],
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as {
      applied: number;
      failed: number;
      results: { status: number; retryable?: boolean; result?: { version: number } }[];
    };
    assert.deepEqual(
      body.results.map((r) => r.status),
      [200, 400, 403, 200, 409],
    );
    assert.deepEqual(
      body.results.map((r) => r.retryable),
      [undefined, false, false, undefined, false],
    );
    assert.equal(body.results[3]?.result?.version, 2, "changes to one document apply in order");
    assert.equal(body.applied, 2);
    assert.deepEqual((await ctx.firestore.doc("notes/b1").get()).get("data"), { n: 1, m: 2 });
    assert.equal((await ctx.firestore.doc("notes/b2").get()).exists, false);
    assert.equal((await post("/v1/sync:batch", { changes: new Array(501).fill({}) })).status, 400);
    assert.equal((await post("/v1/sync:batch", { changes: "no" })).status, 400);
  });
});

describe("GET /v1/changes", () => {
  const get = async (query: string) => {
    const response = await fetch(`${server.url}/v1/changes?${query}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return {
      status: response.status,
      body: (await response.json()) as {
        changes: { document: string; version: number }[];
        next_cursor: string;
        has_more: boolean;
      },
    };
  };

  test("lists changes after a cursor in change order, page by page", async () => {
    for (const document of ["a", "b", "c"])
      await post("/v1/sync", { collection: "feed", document, data: { document } });
    await post("/v1/sync", { collection: "feed", document: "a", data: { again: true } });
    const first = await get("collection=feed&limit=2");
    assert.deepEqual(
      first.body.changes.map((c) => c.document),
      ["b", "c"],
    );
    assert.equal(first.body.has_more, true);
    const second = await get(`collection=feed&limit=2&since=${first.body.next_cursor}`);
    assert.deepEqual(
      second.body.changes.map((c) => [c.document, c.version]),
      [["a", 2]],
    );
    assert.equal(second.body.has_more, false);
    await post("/v1/sync", { collection: "feed", document: "d", data: {} });
    const third = await get(`collection=feed&since=${second.body.next_cursor}`);
    assert.deepEqual(
      third.body.changes.map((c) => c.document),
      ["d"],
    );
    const caughtUp = await get(`collection=feed&since=${third.body.next_cursor}`);
    assert.deepEqual(caughtUp.body.changes, []);
    assert.equal(caughtUp.body.next_cursor, third.body.next_cursor);
  });

  test("rejects a bad cursor, limit or collection", async () => {
    assert.equal((await get("collection=feed&since=garbage")).status, 400);
    assert.equal((await get("collection=feed&limit=0")).status, 400);
    assert.equal((await get("limit=5")).status, 400);
    assert.equal((await get("collection=users")).status, 403);
  });
});

describe("user-created", () => {
  test("creates the profile with default preferences and never resets it", async () => {
    const uid = `u${runs}`;
    await ctx.publisher.publish(userCreated, {
      uid,
      email: "u@example.com",
      display_name: "U",
      photo_url: null,
      email_verified: true,
    });
    const profile = await waitFor("profile", async () => {
      const doc = await ctx.firestore.doc(`users/${uid}`).get();
      return doc.exists ? doc : undefined;
    });
    assert.equal(profile.get("email"), "u@example.com");
    assert.deepEqual(profile.get("preferences"), {
      notifications: true,
      theme: "light",
      language: "en",
    });
    assert.equal(profile.get("subscription_tier"), "free");
    await ctx.firestore.doc(`users/${uid}`).update({ "preferences.theme": "dark" });
    const firstLogin = profile.get("last_login") as Timestamp;

    const viaHttp = await post(
      "/v1/users",
      { uid, email: "changed@example.com" },
      { authorization: `Bearer ${emulatorIdToken(projectId, uid)}` },
    );
    assert.equal(viaHttp.status, 202);
    const refreshed = await waitFor("last_login refreshed", async () => {
      const doc = await ctx.firestore.doc(`users/${uid}`).get();
      return (doc.get("last_login") as Timestamp).toMillis() > firstLogin.toMillis()
        ? doc
        : undefined;
    });
    assert.equal(refreshed.get("preferences.theme"), "dark", "an existing profile is not reset");
    assert.equal(refreshed.get("email"), "u@example.com");
  });

  test("POST /v1/users validates the profile and the caller", async () => {
    const bad = await post("/v1/users", { uid: "alice", email: "not-an-email" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /email/);
    assert.equal((await post("/v1/users", { uid: "mallory" })).status, 403);
  });
});
