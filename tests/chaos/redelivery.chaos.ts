// Duplicate delivery: every event published again and the subscription rewound, counts stay exact.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type RealtimeUpdate, realtimeUpdates, subscriptionName } from "@syncstack/shared";
import { collectMessages } from "@syncstack/shared/testing";
import { type ChaosStack, SyncLoad, scenario, startChaosStack } from "./harness.ts";
import { assertNothingLost } from "./invariants.ts";
import { report } from "./report.ts";

let chaos: ChaosStack;

before(async () => {
  chaos = await startChaosStack("demo-chaos-redelivery");
});
after(async () => {
  await chaos?.stop();
});

test("events published twice and redelivered by a seek are counted once", () =>
  scenario(chaos, async () => {
    const collection = "notes_redelivery";
    const analytics = chaos.pubsub.subscription(subscriptionName(realtimeUpdates, "analytics"));
    const [snapshot] = await analytics.createSnapshot("before-the-load");
    const events = await collectMessages(chaos.pubsub, realtimeUpdates.name, "chaos-copies");
    const load = new SyncLoad(chaos, {
      collection,
      clients: 4,
      users: 2,
      userPrefix: "dup",
      updatesPerDocument: 1,
    }).start();
    await load.acceptedMore(80);
    await load.stop();
    const first = await assertNothingLost(chaos.db, collection, load.accepted);

    const copies = events.payloads<RealtimeUpdate>().filter((e) => e.collection === collection);
    await events.close();
    assert.equal(copies.length >= first.accepted, true, "every accepted write had its event");
    await Promise.all(copies.map((event) => chaos.publisher.publish(realtimeUpdates, event)));
    // Pub/Sub redelivers everything published since the snapshot, acknowledged or not.
    await analytics.seek(snapshot.name);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const second = await assertNothingLost(chaos.db, collection, load.accepted);
    assert.deepEqual(second, first);
    await report("duplicates", {
      ...second,
      republished: copies.length,
      redeliveredBySeek: copies.length,
    });
  }));
