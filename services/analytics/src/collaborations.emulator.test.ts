import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Timestamp } from "@google-cloud/firestore";
import { type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import { resetFirestore, testProjectId, waitFor } from "@syncstack/shared/testing";
import {
  activityDeltasCollection,
  collaborationsCollection,
  userStatsCollection,
} from "./collections.ts";
import { type Analytics, activity, startAnalytics } from "./testing/analytics-fixture.ts";

const projectId = testProjectId();
let analytics: Analytics;

const db = () => analytics.context.firestore;
const stats = (uid: string) => db().collection(userStatsCollection).doc(uid);

/** `uid` changing version `version` of ada's document `doc` (an update unless told otherwise). */
const change = (
  uid: string,
  doc: string,
  version: number,
  overrides: Partial<RealtimeUpdate> = {},
) => activity(uid, 0, { document: doc, version, op: "update", created_by: "ada", ...overrides });

/** Waits until every delta is folded; returns the user's record then. */
async function settled(uid: string) {
  return waitFor(
    `${uid}'s deltas folded`,
    async () => {
      const deltas = await db().collection(activityDeltasCollection).get();
      if (!deltas.empty) return undefined;
      const record = await stats(uid).get();
      return record.exists ? record : undefined;
    },
    30_000,
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
    env: { FOLD_INTERVAL_MS: "200", SWEEP_AGE_MS: "0" },
  });
});
after(() => analytics.close());
beforeEach(() => resetFirestore(projectId));

describe("collaborations", () => {
  test("one event redelivered and published twice counts once", async () => {
    const event = change("bo", "shared-1", 2);
    const statuses = await Promise.all([
      analytics.push(realtimeUpdates, event, "m-1"),
      analytics.push(realtimeUpdates, event, "m-1"),
    ]);
    statuses.push(await analytics.push(realtimeUpdates, event, "m-1"));
    statuses.push(await analytics.push(realtimeUpdates, event, "m-2"));
    assert.deepEqual(statuses, [204, 204, 204, 204]);
    await analytics.context.publisher.publish(realtimeUpdates, event);
    await analytics.context.publisher.publish(realtimeUpdates, event);
    await waitFor("the published duplicates handled", () =>
      analytics.logs.filter((entry) => entry.message === "event already applied").length >= 5
        ? true
        : undefined,
    );
    const record = await settled("bo");
    assert.equal(record.get("collaborations"), 1);
    assert.equal(record.get("documents_created"), 0);
    assert.equal((await db().collection(collaborationsCollection).get()).size, 1);
  });

  test("versions of one document count once, each document once, and later events still count", async () => {
    const early = new Date(Date.now() - 60_000).toISOString();
    const late = new Date().toISOString();
    for (const event of [
      change("bo", "shared-1", 2, { timestamp: early }),
      change("bo", "shared-1", 3, { timestamp: early }),
      change("bo", "shared-2", 1, { op: "create", timestamp: early }),
      // After the pair counted, the event's own figures still count.
      change("bo", "shared-2", 2, { timestamp: late }),
      change("bo", "shared-1", 4, { op: "delete", timestamp: early }),
    ]) {
      assert.equal(await analytics.push(realtimeUpdates, event), 204);
    }
    const record = await settled("bo");
    assert.equal(record.get("collaborations"), 2);
    assert.equal(record.get("documents_created"), 1);
    assert.equal((record.get("last_activity") as Timestamp).toDate().toISOString(), late);
    assert.ok(
      analytics.logs.some((entry) => entry.message === "collaboration already counted"),
      "a later event of a counted pair was applied without the marker",
    );
  });

  test("concurrent events of one user on one document count once, those of two users once each", async () => {
    const events = [
      ...Array.from({ length: 20 }, (_, n) => change("bo", "busy", n + 2)),
      ...Array.from({ length: 10 }, (_, n) => change("cy", "busy", n + 30)),
    ];
    // Every version at once, each also delivered twice, as Pub/Sub may.
    const statuses = await Promise.all(
      [...events, ...events].map((event) => analytics.push(realtimeUpdates, event)),
    );
    assert.ok(
      statuses.every((status) => status === 204),
      statuses.join(" "),
    );
    assert.equal((await settled("bo")).get("collaborations"), 1);
    assert.equal((await settled("cy")).get("collaborations"), 1);
    assert.equal((await db().collection(collaborationsCollection).get()).size, 2);
  });

  test("one's own documents, deletes and events without created_by are not collaborations", async () => {
    for (const event of [
      change("bo", "mine", 1, { op: "create", created_by: "bo" }),
      change("bo", "mine", 2, { created_by: "bo" }),
      change("bo", "theirs", 5, { op: "delete" }),
      change("bo", "unknown", 2, { created_by: undefined }),
    ]) {
      assert.equal(await analytics.push(realtimeUpdates, event), 204);
    }
    const record = await settled("bo");
    assert.equal(record.get("collaborations"), 0);
    assert.equal(record.get("documents_created"), 1);
    assert.equal((await db().collection(collaborationsCollection).get()).size, 0);
    // A delete left no marker behind: a later change of the same document still counts.
    assert.equal(await analytics.push(realtimeUpdates, change("bo", "theirs", 6)), 204);
    await waitFor("the change counted", async () =>
      (await stats("bo").get()).get("collaborations") === 1 ? true : undefined,
    );
  });

  test("a duplicate on another instance folds the stored delta, not its own guess of it", async () => {
    // The first event counted the pair; the second, committed after the marker existed,
    // counts nothing. Neither is folded (their instance stopped), as after a crash.
    const first = change("bo", "shared-1", 2);
    await leaveUnfolded([first, change("bo", "shared-1", 3)]);
    // Redelivered here, the first event fails both attempts: this instance's last guess
    // counts no collaboration, the stored delta counts one, and it is the one folded.
    assert.equal(await analytics.push(realtimeUpdates, first), 204);
    const folded = await waitFor("the announced delta folded", async () => {
      const record = await stats("bo").get();
      return record.exists ? record : undefined;
    });
    assert.equal(folded.get("collaborations"), 1);
    assert.equal((await db().collection(activityDeltasCollection).get()).size, 1);
    await analytics.definition.folder.foldAll();
    assert.equal((await settled("bo")).get("collaborations"), 1);
  });
});
