import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { Firestore, Timestamp } from "@google-cloud/firestore";
import { userCreated } from "@syncstack/shared";
import { waitFor } from "@syncstack/shared/testing";
import { startSync } from "./testing/sync-fixture.ts";

let sync: Awaited<ReturnType<typeof startSync>>;
let db: Firestore;
let runs = 0;

before(async () => {
  sync = await startSync();
  db = sync.context.firestore;
});
after(() => sync.close());
beforeEach(async () => {
  await sync.resetFirestore();
  runs++;
});

describe("user-created", () => {
  test("creates the profile with default preferences and never resets it", async () => {
    const uid = `u${runs}`;
    await sync.context.publisher.publish(userCreated, {
      uid,
      email: "u@example.com",
      display_name: "U",
      photo_url: null,
      email_verified: true,
    });
    const profile = await waitFor("profile", async () => {
      const doc = await db.doc(`users/${uid}`).get();
      return doc.exists ? doc : undefined;
    });
    assert.equal(profile.get("email"), "u@example.com");
    assert.deepEqual(profile.get("preferences"), {
      notifications: true,
      theme: "light",
      language: "en",
    });
    assert.equal(profile.get("subscription_tier"), "free");
    await db.doc(`users/${uid}`).update({ "preferences.theme": "dark" });
    const firstLogin = profile.get("last_login") as Timestamp;

    const viaHttp = await sync.post("/v1/users", { uid, email: "changed@example.com" }, { uid });
    assert.equal(viaHttp.status, 202);
    const refreshed = await waitFor("last_login refreshed", async () => {
      const doc = await db.doc(`users/${uid}`).get();
      return (doc.get("last_login") as Timestamp).toMillis() > firstLogin.toMillis()
        ? doc
        : undefined;
    });
    assert.equal(refreshed.get("preferences.theme"), "dark", "an existing profile is not reset");
    assert.equal(refreshed.get("email"), "u@example.com");
  });

  test("POST /v1/users validates the profile and the caller", async () => {
    const bad = await sync.post("/v1/users", { uid: "alice", email: "not-an-email" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /email/);
    assert.equal((await sync.post("/v1/users", { uid: "mallory" })).status, 403);
    const unknown = await sync.post("/v1/users", { uid: "alice", display_nam: "Alice" });
    assert.equal(unknown.status, 400);
    const { error } = (await unknown.json()) as { error: { message: string } };
    assert.equal(error.message, "unknown field: display_nam");
  });
});
