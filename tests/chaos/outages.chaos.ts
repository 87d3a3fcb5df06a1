// Dependency outages and shutdown under load, against the whole stack as separate processes.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import { collectMessages, emulatorIdToken, waitFor } from "@syncstack/shared/testing";
import { type ChaosStack, SyncLoad, startChaosStack } from "./harness.ts";
import { assertDeliveredInOrder, assertNothingLost } from "./invariants.ts";
import { report } from "./report.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let chaos: ChaosStack;

before(async () => {
  chaos = await startChaosStack("demo-chaos-outages");
});
after(async () => {
  await chaos?.stop();
});

/** The current version of each document of a collection. */
async function versionsOf(collection: string): Promise<Map<string, number>> {
  const snapshot = await chaos.db.collection(collection).get();
  return new Map(snapshot.docs.map((doc) => [doc.id, Number(doc.get("version"))]));
}

test("Pub/Sub frozen for 30 s under load: writes keep landing, then every event arrives in order", async () => {
  const events = await collectMessages(chaos.pubsub, "realtime-updates", "chaos-pubsub-outage");
  // The subscriber's stream is open before the load starts: a message published while it
  // connects may first arrive late, which would look like disorder.
  await chaos.publisher.publish(realtimeUpdates, {
    collection: "probe",
    document: "probe",
    timestamp: new Date().toISOString(),
    op: "create",
    version: 1,
    source: "chaos",
  });
  await waitFor("the subscriber to receive", () => (events.messages.length > 0 ? true : undefined));
  const load = new SyncLoad(chaos, {
    collection: "notes_pubsub",
    clients: 6,
    users: 3,
    userPrefix: "ps",
    updatesPerDocument: 2,
  }).start();
  try {
    await load.acceptedMore(30);
    await chaos.stack.parts.pubsub.freeze();
    const before = load.accepted.length;
    await sleep(30_000);
    const duringOutage = load.accepted.length - before;
    chaos.stack.parts.pubsub.thaw();
    assert.ok(duringOutage >= 30, `only ${duringOutage} writes accepted while Pub/Sub was down`);
    await load.acceptedMore(30);
  } finally {
    chaos.stack.parts.pubsub.thaw();
    await load.stop();
  }
  const tally = await assertNothingLost(chaos.db, "notes_pubsub", load.accepted);
  const versions = await versionsOf("notes_pubsub");
  const expected = [...versions.values()].reduce((sum, v) => sum + v, 0);
  await waitFor(
    "every event to arrive",
    () => {
      const distinct = new Set(
        events.payloads<RealtimeUpdate>().map((e) => `${e.document}@${e.version}`),
      );
      return distinct.size >= expected ? true : undefined;
    },
    60_000,
  );
  await events.close();
  assertDeliveredInOrder(
    events.payloads<RealtimeUpdate>().filter((e) => e.collection === "notes_pubsub"),
    versions,
  );
  await report("pubsub-outage", { ...tally, events: expected, failures: load.failures });
});

test("Firestore frozen: 503 with Retry-After, not ready, nothing half-written, recovers by itself", async () => {
  const sync = chaos.stack.file.services.sync;
  const load = new SyncLoad(chaos, {
    collection: "notes_firestore",
    clients: 4,
    users: 2,
    userPrefix: "fs",
  }).start();
  try {
    await load.acceptedMore(20);
    await chaos.stack.parts.firestore.freeze();
    const token = emulatorIdToken(chaos.projectId, "fs-probe");
    const refused = await fetch(`${sync}/v1/sync`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        collection: "notes_firestore",
        document: "probe",
        data: { author: "fs-probe" },
      }),
    });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "1");
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "unavailable");
    assert.match(body.error.message, /database/);
    const ready = await fetch(`${sync}/readyz`);
    assert.equal(ready.status, 503);
    assert.deepEqual(((await ready.json()) as { checks: object }).checks, {
      firestore: "unavailable",
    });
    await sleep(5_000);
    chaos.stack.parts.firestore.thaw();
    await waitFor(
      "sync to be ready again",
      async () => ((await fetch(`${sync}/readyz`)).ok ? true : undefined),
      30_000,
    );
    await load.acceptedMore(20);
  } finally {
    chaos.stack.parts.firestore.thaw();
    await load.stop();
  }
  // The refused probe may have committed late (its commit was sent): then with its event.
  const tally = await assertNothingLost(chaos.db, "notes_firestore", load.accepted);
  await report("firestore-outage", { ...tally, failures: load.failures });
});

test("SIGTERM under load: requests in flight finish, nothing accepted is lost", async () => {
  const load = new SyncLoad(chaos, {
    collection: "notes_sigterm",
    clients: 8,
    users: 4,
    userPrefix: "term",
  }).start();
  let inFlight: string[] = [];
  try {
    await load.acceptedMore(40);
    // Requests the server has surely begun: sent a while ago and not answered yet.
    const started = [...load.pending].filter((r) => Date.now() - r.sentAt >= 20);
    chaos.stack.parts.sync.signal("SIGTERM");
    inFlight = await Promise.all(started.map((r) => r.outcome));
    await chaos.stack.parts.sync.restart();
    await load.acceptedMore(40);
  } finally {
    await load.stop();
  }
  assert.ok(
    inFlight.every((outcome) => outcome === "ok"),
    `requests in flight at SIGTERM ended: ${inFlight.join(", ")}`,
  );
  const tally = await assertNothingLost(chaos.db, "notes_sigterm", load.accepted);
  await report("sigterm", {
    ...tally,
    inFlightAtSigterm: inFlight.length,
    failures: load.failures,
  });
});
