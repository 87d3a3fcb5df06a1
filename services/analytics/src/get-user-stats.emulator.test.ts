import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { realtimeUpdates } from "@syncstack/shared";
import {
  resetFirestore,
  type TestRequest,
  testProjectId,
  waitFor,
  withoutTraceId,
} from "@syncstack/shared/testing";
import { userStatsCollection } from "./collections.ts";
import { type Analytics, activity, startAnalytics } from "./testing/analytics-fixture.ts";

const projectId = testProjectId();
const lastActivity = "2030-01-02T03:04:05.678Z";
const admin: TestRequest = { uid: "root", claims: { admin: true } };
let analytics: Analytics;

interface ErrorBody {
  error: { code: string; message: string };
}

/** Writes bo's record directly: the route only reads it. */
async function seedBo(): Promise<void> {
  await analytics.context.firestore
    .collection(userStatsCollection)
    .doc("bo")
    .set({
      documents_created: 7,
      collaborations: 2,
      last_activity: Timestamp.fromDate(new Date(lastActivity)),
    });
}

const bosRecord = {
  uid: "bo",
  documents_created: 7,
  collaborations: 2,
  last_activity: lastActivity,
};

before(async () => {
  analytics = await startAnalytics(projectId, {
    subscribe: false,
    env: { FOLD_INTERVAL_MS: "200" },
  });
});
after(() => analytics.close());
beforeEach(() => resetFirestore(projectId));

describe("GET /v1/users/{uid}/stats", () => {
  test("a user reads their own record, by uid or as me, timestamps in ISO 8601", async () => {
    await seedBo();
    for (const path of ["/v1/users/bo/stats", "/v1/users/me/stats"]) {
      const response = await analytics.get(path, { uid: "bo" });
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get("content-type") ?? "", /application\/json/);
      assert.deepEqual(await response.json(), bosRecord, path);
    }
  });

  test("counts the user's events once folded", async () => {
    const events = [
      activity("cy", 1),
      activity("cy", 2, { op: "update", version: 2, created_by: "bo" }),
    ];
    for (const event of events) assert.equal(await analytics.push(realtimeUpdates, event), 204);
    // Both events may take two folds: wait for the second.
    const body = await waitFor("both of cy's events folded", async () => {
      const response = await analytics.get("/v1/users/me/stats", { uid: "cy" });
      if (response.status !== 200) return undefined;
      const record = (await response.json()) as Record<string, unknown>;
      return record.collaborations === 1 ? record : undefined;
    });
    assert.deepEqual(body, {
      uid: "cy",
      documents_created: 1,
      collaborations: 1,
      last_activity: events[1]?.timestamp,
    });
  });

  test("another user's record answers exactly as a missing one", async () => {
    await seedBo();
    const answer = async (uid: string, init: TestRequest) => {
      const response = await analytics.get(`/v1/users/${uid}/stats`, init);
      return { status: response.status, body: withoutTraceId(await response.json()) as ErrorBody };
    };
    const others = await answer("bo", { uid: "cy" });
    const missing = await answer("ghost", { uid: "cy" });
    assert.deepEqual(others, {
      status: 404,
      body: { error: { code: "not_found", message: 'no stats for user "bo"' } },
    });
    assert.deepEqual(missing, {
      status: 404,
      body: { error: { code: "not_found", message: 'no stats for user "ghost"' } },
    });
    assert.deepEqual(await answer("ghost", admin), missing, "an admin finds no record either");
    assert.deepEqual(await answer("me", { uid: "ghost" }), missing, "nor does its own user");
    const claimed = await answer("bo", { uid: "cy", claims: { admin: "yes" } });
    assert.deepEqual(claimed, others, "only admin: true is an admin");
  });

  test("an admin reads any user's record", async () => {
    await seedBo();
    const response = await analytics.get("/v1/users/bo/stats", admin);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), bosRecord);
  });

  test("needs a token, takes no query parameter and refuses a uid Firestore cannot hold", async () => {
    assert.equal((await analytics.get("/v1/users/bo/stats", { uid: null })).status, 401);
    const cases: [string, RegExp][] = [
      ["/v1/users/me/stats?limit=5", /^unknown query parameter: limit$/],
      ["/v1/users/bo/stats?a=1&b=2", /^unknown query parameters: a, b$/],
      ["/v1/users/a%2Fb/stats", /^the uid must not contain "\/"$/],
      ["/v1/users/__x__/stats", /^the uid must not match __\.\*__/],
      [`/v1/users/${"x".repeat(1_501)}/stats`, /^the uid must be at most 1500 bytes$/],
      ["/v1/users/%E0%A4/stats", /^the path is not valid percent-encoded UTF-8$/],
    ];
    for (const [path, message] of cases) {
      const response = await analytics.get(path, { uid: "bo" });
      assert.equal(response.status, 400, path);
      const { error } = (await response.json()) as ErrorBody;
      assert.equal(error.code, "invalid_argument", path);
      assert.match(error.message, message, path);
    }
  });
});
