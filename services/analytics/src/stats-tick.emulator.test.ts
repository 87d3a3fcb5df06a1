import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { type Firestore, Timestamp } from "@google-cloud/firestore";
import { realtimeUpdates, statsTick } from "@syncstack/shared";
import { resetFirestore, testProjectId, waitFor } from "@syncstack/shared/testing";
import { activeWindowMs, aggregateStats } from "./aggregate-stats.ts";
import {
  activityDeltasCollection,
  dailyStatsPath,
  historyCollection,
  type StatsFigures,
  userStatsCollection,
} from "./collections.ts";
import { tickId } from "./on-stats-tick.ts";
import { type Analytics, activity, startAnalytics } from "./testing/analytics-fixture.ts";

const projectId = testProjectId();
const hour = 3_600_000;
/** Three ticks six hours apart, the last at the start of this hour. */
const t2 = new Date(Math.floor(Date.now() / hour) * hour);
const t1 = new Date(t2.getTime() - 6 * hour);
const t0 = new Date(t2.getTime() - 12 * hour);
let analytics: Analytics;
let db: Firestore;

/** A token with the admin claim, which app-wide statistics need. */
const admin = { uid: "root", claims: { admin: true } };
const tick = (at: Date, messageId?: string) =>
  analytics.push(statsTick, { tick_at: at.toISOString() }, messageId);
const daily = async () => (await db.doc(dailyStatsPath).get()).data();
const history = async () =>
  (await db.collection(historyCollection).orderBy("timestamp").get()).docs;

/** Writes `count` user_stats records with varied counters and activity around `at`. */
async function seedUsers(count: number, at: Date): Promise<void> {
  const batch = db.batch();
  for (let n = 0; n < count; n++) {
    // Two users sit on the edge of the active window: exactly 24 h before the tick, and 1 ms more.
    const age = n === 0 ? activeWindowMs : n === 1 ? activeWindowMs + 1 : ((n * 7_919) % 48) * hour;
    batch.set(db.collection(userStatsCollection).doc(`seed-${n}`), {
      documents_created: (n * 31) % 17,
      collaborations: n % 3,
      last_activity: Timestamp.fromMillis(at.getTime() - age),
    });
  }
  await batch.commit();
}

/** The figures computed the naive way: every record read and summed here. */
async function bruteForce(at: Date): Promise<StatsFigures> {
  const figures = { total_users: 0, total_documents: 0, total_collaborations: 0, active_users: 0 };
  for (const record of (await db.collection(userStatsCollection).get()).docs) {
    figures.total_users++;
    figures.total_documents += record.get("documents_created") as number;
    figures.total_collaborations += record.get("collaborations") as number;
    const last = (record.get("last_activity") as Timestamp).toMillis();
    if (last >= at.getTime() - activeWindowMs) figures.active_users++;
  }
  return figures;
}

const figuresOf = (data: Record<string, unknown> | undefined) => ({
  total_users: data?.total_users,
  total_documents: data?.total_documents,
  total_collaborations: data?.total_collaborations,
  active_users: data?.active_users,
});

before(async () => {
  analytics = await startAnalytics(projectId, { subscribe: true });
  db = analytics.context.firestore;
});
after(() => analytics.close());
beforeEach(() => resetFirestore(projectId));

describe("stats-tick", () => {
  test("an empty database gives zeros, not an error", async () => {
    assert.equal(await tick(t2), 204);
    const stats = await daily();
    assert.deepEqual(figuresOf(stats), {
      total_users: 0,
      total_documents: 0,
      total_collaborations: 0,
      active_users: 0,
    });
    assert.ok(stats?.timestamp instanceof Timestamp, "timestamp is a Firestore Timestamp");
    assert.equal((stats.timestamp as Timestamp).toMillis(), t2.getTime());
    assert.equal(stats.period, "6h");
    const [entry] = await history();
    assert.equal(entry?.id, tickId(t2));
    assert.ok(entry?.get("computed_at") instanceof Timestamp);
  });

  test("Cloud Scheduler's fixed tick, without tick_at, counts as of its publish time", async () => {
    const before = Date.now();
    assert.equal(await analytics.push(statsTick, statsTick.schedule?.cloudPayload), 204);
    const at = ((await daily())?.timestamp as Timestamp | undefined)?.toMillis() ?? 0;
    assert.ok(at >= before && at <= Date.now(), "the tick is the message's publish time");
    assert.equal((await history())[0]?.id, tickId(new Date(at)));
  });

  test("figures equal a brute-force count over the same data, unfolded activity included", async () => {
    const at = t2;
    await seedUsers(300, at);
    // An instance that crashed before folding leaves 30 creates behind: 20 by seeded users,
    // 10 by users with no record yet.
    const crashed = await startAnalytics(projectId, { subscribe: false });
    await crashed.definition.folder.stop();
    for (let n = 0; n < 30; n++) {
      const uid = n < 20 ? `seed-${n * 13}` : `newcomer-${n}`;
      assert.equal(await crashed.push(realtimeUpdates, activity(uid, n)), 204);
    }
    // And 8 collaborations, each event twice with another version: changes to seed-1's
    // documents by other seeded users and by newcomers.
    for (let n = 0; n < 16; n++) {
      const pair = n % 8;
      const uid = pair < 4 ? `seed-${pair + 2}` : `newcomer-${pair + 20}`;
      const change = { op: "update" as const, version: 2 + (n >> 3), created_by: "seed-1" };
      const event = activity(uid, 0, { ...change, document: `seed-1-doc-${pair}` });
      assert.equal(await crashed.push(realtimeUpdates, event), 204);
    }
    await crashed.close();

    const before = await bruteForce(at);
    const { readTime } = await db.doc(dailyStatsPath).get();
    const figures = await aggregateStats(db, at, readTime, 10_000);
    assert.deepEqual(figures, {
      ...before,
      total_documents: before.total_documents + 30,
      total_collaborations: before.total_collaborations + 8,
    });

    await analytics.context.publisher.publish(statsTick, { tick_at: at.toISOString() });
    const stats = await waitFor("daily_stats", daily);
    assert.equal((await db.collection(activityDeltasCollection).get()).size, 0, "folded first");
    const after = await bruteForce(at);
    assert.equal(after.total_users, 310);
    assert.deepEqual(figuresOf(stats), after);
    assert.deepEqual(figuresOf((await history())[0]?.data()), after);
  });

  test("the same tick delivered twice writes one history entry and keeps its figures", async () => {
    await seedUsers(10, t1);
    assert.equal(await tick(t1, "tick-1"), 204);
    await seedUsers(20, t1);
    assert.equal(await tick(t1, "tick-1"), 204, "Pub/Sub redelivery");
    assert.equal(await tick(t1, "tick-1-again"), 204, "a second publication of the tick");
    const statuses = await Promise.all([tick(t2, "tick-2"), tick(t2, "tick-2")]);
    assert.deepEqual(statuses, [204, 204]);
    const entries = await history();
    assert.deepEqual(
      entries.map((entry) => [entry.id, entry.get("total_users")]),
      [
        [tickId(t1), 10],
        [tickId(t2), 20],
      ],
    );
  });

  test("a late delivery of an older tick adds its entry but never rolls daily_stats back", async () => {
    await seedUsers(5, t2);
    assert.equal(await tick(t2), 204);
    await seedUsers(8, t2);
    assert.equal(await tick(t0), 204);
    const stats = await daily();
    assert.ok(stats);
    assert.equal((stats.timestamp as Timestamp).toMillis(), t2.getTime());
    assert.equal(stats.total_users, 5);
    assert.deepEqual(
      (await history()).map((entry) => entry.get("total_users")),
      [8, 5],
    );
  });
});

describe("GET /v1/stats", () => {
  test("needs a Firebase ID token with the admin claim", async () => {
    assert.equal((await analytics.get("/v1/stats")).status, 401);
    for (const claims of [{}, { admin: "true" }, { admin: false }]) {
      const response = await analytics.get("/v1/stats?limit=5", { uid: "viewer", claims });
      assert.equal(response.status, 403, JSON.stringify(claims));
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      assert.equal(error.code, "permission_denied");
      assert.match(error.message, /app-wide statistics are for admins/);
    }
    assert.equal((await analytics.get("/v1/stats?limit=5", admin)).status, 200);
  });

  test("returns null and no history before the first tick", async () => {
    const response = await analytics.get("/v1/stats", admin);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { latest: unknown; history: unknown[] };
    assert.equal(body.latest, null);
    assert.deepEqual(body.history, []);
  });

  test("returns the latest figures and the ticks of a range, oldest first", async () => {
    await seedUsers(3, t2);
    for (const at of [t0, t1, t2]) assert.equal(await tick(at), 204);
    const all = (await (await analytics.get("/v1/stats", admin)).json()) as {
      latest: Record<string, unknown>;
      history: { tick: string; timestamp: string; total_users: number }[];
    };
    assert.deepEqual(figuresOf(all.latest), {
      total_users: 3,
      total_documents: 0 + 14 + 11,
      total_collaborations: 0 + 1 + 2,
      // seed-0 is exactly 24 h old at t2, seed-1 a millisecond older, seed-2 46 h.
      active_users: 1,
    });
    assert.equal(all.latest.timestamp, t2.toISOString());
    assert.equal(all.latest.period, "6h");
    assert.deepEqual(
      all.history.map((entry) => entry.timestamp),
      [t0, t1, t2].map((at) => at.toISOString()),
    );
    const range = `from=${t1.toISOString()}&to=${t2.toISOString()}&limit=1`;
    const page = (await (await analytics.get(`/v1/stats?${range}`, admin)).json()) as {
      history: { tick: string }[];
      has_more: boolean;
    };
    assert.deepEqual(
      page.history.map((entry) => entry.tick),
      [tickId(t1)],
    );
    assert.equal(page.has_more, true);
  });

  test("rejects a bad range or limit naming the parameter", async () => {
    const cases: [string, RegExp][] = [
      ["from=yesterday", /from must be an ISO 8601 date-time/],
      ["limit=0", /limit must be at least 1/],
      ["limit=many", /limit must be a number/],
      [`from=${t2.toISOString()}&to=${t0.toISOString()}`, /from must not be after to/],
      ["limit=5&period=6h", /^unknown query parameter: period$/],
    ];
    for (const [query, message] of cases) {
      const response = await analytics.get(`/v1/stats?${query}`, admin);
      assert.equal(response.status, 400, query);
      const { error } = (await response.json()) as { error: { message: string } };
      assert.match(error.message, message);
    }
  });
});
