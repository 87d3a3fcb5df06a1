import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { type Firestore, Timestamp } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { AppError, type Publisher, type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import { type Collector, testProjectId, waitFor } from "@syncstack/shared/testing";
import { Outbox, outboxCollection, type PendingEvent } from "./outbox.ts";
import { OutboxSweeper } from "./outbox-sweeper.ts";
import { eventsFor, startSync } from "./testing/sync-fixture.ts";

const projectId = testProjectId();
let sync: Awaited<ReturnType<typeof startSync>>;
let db: Firestore;
let publisher: Publisher;
let events: Collector;

before(async () => {
  sync = await startSync({ projectId });
  db = sync.context.firestore;
  publisher = sync.context.publisher;
  events = sync.collected(realtimeUpdates);
});
after(() => sync.close());
beforeEach(() => sync.resetFirestore());

describe("the outbox", () => {
  test("an answer does not wait for its event's publish, unless the backlog is full", async () => {
    const outbox = new Outbox(db, publisher, sync.context.logger, {
      deadlineMs: 10_000,
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
    const handed = [1, 2].map(
      (n) => outbox.committed(outbox.add(db.batch(), [event(n)]), [event(n)], Timestamp.now())[0],
    );
    const state = (promise: Promise<void> | undefined) =>
      Promise.race([
        promise?.then(() => "handed over"),
        new Promise((resolve) => setImmediate(() => resolve("waiting"))),
      ]);
    assert.equal(await state(handed[0]), "handed over", "the event is safe in the outbox");
    assert.equal(await state(handed[1]), "waiting", "one event is already being published");
    await handed[1];
    await eventsFor(events, "backlog-2", 1);
    await eventsFor(events, "backlog-1", 1);
    await outbox.drain();
  });

  test("after a failed publish, a document's later events wait and go out in order with the sweep", async () => {
    let failures = 1;
    // Pub/Sub refuses one publish, then works: the real publisher behind a one-time failure.
    const flaky = Object.create(publisher) as Publisher;
    flaky.publish = (topic, payload, options) => {
      if (failures-- > 0) return Promise.reject(new AppError("unavailable", "Pub/Sub is down"));
      return publisher.publish(topic, payload, options);
    };
    const logger = sync.context.logger;
    const outbox = new Outbox(db, flaky, logger, { deadlineMs: 10_000 });
    const sweeper = new OutboxSweeper(db, outbox, flaky, logger, {
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
        outbox.add(db.batch(), [event(document, version)]),
        event(document, version),
        Timestamp.now(),
      );
    await hand("stuck", 1); // refused
    await hand("stuck", 2);
    await hand("stuck", 3);
    await hand("free", 1);
    await eventsFor(events, "free", 1);
    assert.equal(
      events.payloads<RealtimeUpdate>().some((e) => e.document === "stuck"),
      false,
      "nothing of the blocked document overtook its refused event",
    );
    assert.equal(await sweeper.sweep(), 3);
    await hand("stuck", 4); // live again
    const stuck = await eventsFor(events, "stuck", 4);
    assert.deepEqual(
      stuck.map((e) => e.version),
      [1, 2, 3, 4],
    );
    await outbox.drain();
  });

  test("delivers an event after Pub/Sub was down during the write", async () => {
    const down = await startSync({
      projectId,
      topics: [],
      collect: [],
      env: { DEADLINE_MS: "1500" },
      clients: {
        pubsub: new PubSub({ projectId, apiEndpoint: "127.0.0.1:9", emulatorMode: true }),
      },
    });
    try {
      const response = await down.post("/v1/sync", {
        collection: "notes",
        document: "outage",
        data: { n: 1 },
      });
      assert.equal(response.status, 200, "the write commits even though Pub/Sub is down");
    } finally {
      await down.close();
    }
    const pending = await db.collection(outboxCollection).get();
    assert.equal(pending.size, 1);
    assert.equal(
      events.payloads<RealtimeUpdate>().some((e) => e.document === "outage"),
      false,
    );

    assert.equal(await sync.definition.sweeper.sweep(), 1);
    const [event] = await eventsFor(events, "outage", 1);
    assert.equal(event?.version, 1);
    const emptied = await waitFor("published entry removed from the outbox", async () => {
      const left = await db.collection(outboxCollection).get();
      return left.empty ? true : undefined;
    });
    assert.equal(emptied, true);
  });

  test("a crash between commit and publish loses nothing: the next start-up sweep publishes", async () => {
    const crashing = await startSync({ projectId, topics: [], collect: [] });
    // The process dies right after the commit: nothing is published.
    crashing.definition.outbox.published = async () => {};
    for (const version of [1, 2, 3]) {
      const response = await crashing.post("/v1/sync", {
        collection: "notes",
        document: "crash",
        data: { version },
      });
      assert.equal(response.status, 200);
    }
    await crashing.close();
    assert.equal(
      events.payloads<RealtimeUpdate>().some((e) => e.document === "crash"),
      false,
    );

    const restarted = await startSync({ projectId, topics: [], collect: [], background: true });
    try {
      const crash = await eventsFor(events, "crash", 3);
      assert.deepEqual(
        crash.map((e) => e.version),
        [1, 2, 3],
        "oldest first, in order",
      );
    } finally {
      await restarted.close();
    }
  });

  test("the sweeper takes an entry once it is older than the sweep age, by its clock", async () => {
    const crashing = await startSync({ projectId, topics: [], collect: [] });
    crashing.definition.outbox.published = async () => {};
    try {
      const response = await crashing.post("/v1/sync", {
        collection: "notes",
        document: "aged",
        data: { n: 1 },
      });
      assert.equal(response.status, 200);
    } finally {
      await crashing.close();
    }
    const [entry] = (await db.collection(outboxCollection).get()).docs;
    const createdAt = (entry?.get("created_at") as Timestamp | undefined)?.toMillis();
    assert.ok(createdAt, "the entry waits in the outbox");
    let clock = createdAt;
    const sweeper = new OutboxSweeper(db, sync.definition.outbox, publisher, sync.context.logger, {
      deadlineMs: 10_000,
      sweepAgeMs: 30_000,
      now: () => clock,
    });
    // created_at has microseconds: 1 ms either side of the age is clearly younger or older.
    clock = createdAt + 30_000 - 1;
    assert.equal(await sweeper.sweep(), 0, "younger than the sweep age: live publishing's");
    clock = createdAt + 30_000 + 1;
    assert.equal(await sweeper.sweep(), 1, "older than the sweep age: the sweeper's");
    const [event] = await eventsFor(events, "aged", 1);
    assert.equal(
      event?.timestamp,
      entry?.createTime?.toDate().toISOString(),
      "stamped with its commit time",
    );
  });
});
