import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Timestamp } from "@google-cloud/firestore";
import {
  processedMessagesCollection,
  type RealtimeUpdate,
  realtimeUpdates,
  userCreated,
} from "@syncstack/shared";
import { resetFirestore, testProjectId, waitFor } from "@syncstack/shared/testing";
import { activityDeltasCollection, userStatsCollection } from "./collections.ts";
import { foldDeltas, pendingOf } from "./fold-deltas.ts";
import { type Analytics, activity, startAnalytics } from "./testing/analytics-fixture.ts";

const projectId = testProjectId();
const foldIntervalMs = 300;
let analytics: Analytics;

const stats = (uid: string) => analytics.context.firestore.collection(userStatsCollection).doc(uid);

/** Waits until the user's record says `documents_created: count`; returns its data. */
async function documentsCreated(uid: string, count: number, timeoutMs = 15_000) {
  return waitFor(
    `${uid} documents_created = ${count}`,
    async () => {
      const record = await stats(uid).get();
      return record.get("documents_created") === count ? record : undefined;
    },
    timeoutMs,
  );
}

/** Has an instance whose folder has stopped (as if it crashed) commit the events' deltas. */
async function leaveUnfolded(events: RealtimeUpdate[]): Promise<void> {
  const crashed = await startAnalytics(projectId, { subscribe: false });
  try {
    await crashed.definition.folder.stop();
    for (const event of events) assert.equal(await crashed.push(realtimeUpdates, event), 204);
  } finally {
    await crashed.close();
  }
}

before(async () => {
  analytics = await startAnalytics(projectId, {
    subscribe: true,
    env: { FOLD_INTERVAL_MS: String(foldIntervalMs), SWEEP_AGE_MS: "0" },
  });
});
after(() => analytics.close());
beforeEach(() => resetFirestore(projectId));

describe("user-created", () => {
  test("creates zero counters with a Timestamp, and a repeated event never resets the record", async () => {
    const { context: ctx } = analytics;
    await ctx.publisher.publish(userCreated, { uid: "ada", email: "ada@example.com" });
    const created = await waitFor("user_stats/ada", async () => {
      const record = await stats("ada").get();
      return record.exists ? record : undefined;
    });
    assert.equal(created.get("documents_created"), 0);
    assert.equal(created.get("collaborations"), 0);
    const first = created.get("last_activity") as Timestamp;
    assert.ok(first.toMillis() > Date.now() - 60_000, "last_activity is a recent Timestamp");

    assert.equal(await analytics.push(realtimeUpdates, activity("ada", 1)), 204);
    await documentsCreated("ada", 1);
    for (const messageId of ["again-1", "again-2"]) {
      assert.equal(await analytics.push(userCreated, { uid: "ada" }, messageId), 204);
    }
    const record = await stats("ada").get();
    assert.equal(record.get("documents_created"), 1, "a repeated user-created reset nothing");
  });
});

describe("realtime-updates", () => {
  test("counts each event once whatever Pub/Sub redelivers, with one idempotency record", async () => {
    const event = activity("bo", 1);
    // Pub/Sub redelivers with the same message id, after an ack was lost or while the first
    // delivery is still being handled.
    const statuses = await Promise.all([
      analytics.push(realtimeUpdates, event, "m-1"),
      analytics.push(realtimeUpdates, event, "m-1"),
    ]);
    statuses.push(await analytics.push(realtimeUpdates, event, "m-1"));
    // The sync outbox republishes after a crash under a new message id.
    statuses.push(await analytics.push(realtimeUpdates, event, "m-2"));
    assert.deepEqual(statuses, [204, 204, 204, 204]);
    await analytics.context.publisher.publish(realtimeUpdates, event);
    await analytics.context.publisher.publish(realtimeUpdates, activity("bo", 2));
    await documentsCreated("bo", 2);
    await waitFor("the published duplicate handled", () =>
      analytics.logs.filter((entry) => entry.message === "event already applied").length >= 4
        ? true
        : undefined,
    );
    const records = await analytics.context.firestore.collection(processedMessagesCollection).get();
    assert.equal(records.size, 2, "one record per event, not per message");
    await waitFor("deltas folded", async () => {
      const deltas = await analytics.context.firestore.collection(activityDeltasCollection).get();
      return deltas.empty ? true : undefined;
    });
    assert.equal((await stats("bo").get()).get("documents_created"), 2);
  });

  test("creates the record of an unknown user; only creates count; last_activity never moves back", async () => {
    const early = new Date(Date.now() - 3_600_000).toISOString();
    const late = new Date(Date.now() - 60_000).toISOString();
    const pushes = [
      activity("cy", 1, { timestamp: late }),
      activity("cy", 1, { op: "update", version: 2, timestamp: early }),
      activity("cy", 2, { op: "delete", version: 3, timestamp: early }),
      { ...activity("cy", 3), uid: undefined },
    ];
    for (const event of pushes) assert.equal(await analytics.push(realtimeUpdates, event), 204);
    const record = await waitFor("cy's record", async () => {
      const snapshot = await stats("cy").get();
      const deltas = await analytics.context.firestore.collection(activityDeltasCollection).get();
      return snapshot.exists && deltas.empty ? snapshot : undefined;
    });
    assert.equal(record.get("documents_created"), 1);
    assert.equal(record.get("collaborations"), 0);
    assert.equal((record.get("last_activity") as Timestamp).toDate().toISOString(), late);

    const later = new Date().toISOString();
    await analytics.push(realtimeUpdates, activity("cy", 4, { op: "update", timestamp: later }));
    await waitFor("last_activity moved forward", async () => {
      const snapshot = await stats("cy").get();
      const at = snapshot.get("last_activity") as Timestamp;
      return at.toDate().toISOString() === later ? true : undefined;
    });
    assert.equal((await stats("cy").get()).get("documents_created"), 1);
  });

  test("500 events for one user in a burst end exact, the record written at most once per interval", async () => {
    const { context: ctx } = analytics;
    const writes = new Set<string>();
    const unsubscribe = stats("dee").onSnapshot((snapshot) => {
      if (snapshot.exists && snapshot.updateTime) writes.add(snapshot.updateTime.toDate().toJSON());
    });
    const events = Array.from({ length: 500 }, (_, n) => activity("dee", n));
    // Publishes batch, so the burst reaches Pub/Sub within a fraction of a second; 50
    // duplicates (the outbox's republish) are mixed in.
    await Promise.all([
      ...events.map((event) => ctx.publisher.publish(realtimeUpdates, event)),
      ...events.slice(0, 50).map((event) => ctx.publisher.publish(realtimeUpdates, event)),
    ]);
    const record = await documentsCreated("dee", 500, 120_000);
    await new Promise((resolve) => setTimeout(resolve, 2 * foldIntervalMs));
    unsubscribe();
    assert.equal((await stats("dee").get()).get("documents_created"), 500);
    assert.ok(record.updateTime);
    const times = [...writes].map((at) => Date.parse(at)).sort((a, b) => a - b);
    assert.ok(times.length < 100, `${times.length} writes to the record for 550 messages`);
    for (let i = 1; i < times.length; i++) {
      const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
      assert.ok(gap >= foldIntervalMs - 5, `two folds ${gap} ms apart`);
    }
  });
});

describe("folding", () => {
  test("a delta folded twice, or by two instances at once, counts once", async () => {
    const { firestore: db, config } = analytics.context;
    const deltas = db.collection(activityDeltasCollection);
    // Earlier tests' deltas may still be on their way to a fold; this test counts all of them.
    await waitFor(
      "earlier deltas folded",
      async () => ((await deltas.get()).empty ? true : undefined),
      30_000,
    );
    await leaveUnfolded([0, 1, 2, 3, 4, 5].map((n) => activity(n < 3 ? "fay" : "gus", n)));
    const pending = (await deltas.get()).docs.map(pendingOf);
    const [first] = pending;
    assert.ok(first);
    assert.equal(await foldDeltas(db, [first], config.DEADLINE_MS), 1);
    // Stale knowledge: the first delta is gone, so its delete's precondition fails the commit.
    assert.equal(await foldDeltas(db, pending, config.DEADLINE_MS), 5);
    assert.equal(await foldDeltas(db, pending, config.DEADLINE_MS), 0);

    await leaveUnfolded([6, 7, 8, 9, 10, 11].map((n) => activity(n < 9 ? "fay" : "gus", n)));
    const other = await startAnalytics(projectId, { subscribe: false });
    try {
      const folded = await Promise.all([
        analytics.definition.folder.foldAll(),
        other.definition.folder.foldAll(),
      ]);
      assert.equal(folded[0] + folded[1], 6, "each delta folded by one instance only");
    } finally {
      await other.close();
    }
    assert.equal((await deltas.get()).size, 0);
    assert.equal((await stats("fay").get()).get("documents_created"), 6);
    assert.equal((await stats("gus").get()).get("documents_created"), 6);
  });
});

describe("the sweeper", () => {
  test("folds what an instance that crashed after committing left behind", async () => {
    await leaveUnfolded([0, 1, 2, 3, 4].map((n) => activity("eve", n)));
    const deltas = analytics.context.firestore.collection(activityDeltasCollection);
    assert.equal((await deltas.get()).size, 5);
    assert.equal((await stats("eve").get()).exists, false);
    assert.equal(await analytics.definition.folder.sweep(), 5);
    await documentsCreated("eve", 5);
    await waitFor("deltas folded", async () => ((await deltas.get()).empty ? true : undefined));
  });
});
