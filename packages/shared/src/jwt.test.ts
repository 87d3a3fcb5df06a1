import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { jwksFetcher, rs256Verifier } from "./jwt.ts";
import { signingKit } from "./testing/signed-tokens.ts";

const kit = await signingKit();
after(() => kit.close());
const now = () => Math.floor(Date.now() / 1_000);
const claims = () => kit.claims("demo-jwt", "alice");
const cooldownSeconds = 1.5;
// Made before any timing starts: an RSA key can take a second to make on a busy machine.
for (const kid of ["rotated-1", "rotated-2", "rotated-3"]) kit.createKey(kid);

const unknownKey = (error: Error & { code?: string }) =>
  error.code === "unauthenticated" && /unknown key/.test(error.message);

test("an unknown kid after the cooldown fetches the keys once more; another within the cooldown does not", async () => {
  const verify = rs256Verifier(kit.fetchKeys({ cooldownSeconds }), now);
  const start = kit.fetches();
  await verify(kit.sign(claims()));
  assert.equal(kit.fetches() - start, 1, "the first verification fetches the keys");

  await sleep(cooldownSeconds * 1_000 + 100);
  kit.publish("rotated-1");
  // The refetch starts the cooldown: what follows must take less than it.
  assert.equal((await verify(kit.sign(claims(), { kid: "rotated-1" }))).sub, "alice");
  assert.equal(kit.fetches() - start, 2, "the unknown kid fetched the keys once");

  kit.publish("rotated-2");
  await assert.rejects(verify(kit.sign(claims(), { kid: "rotated-2" })), unknownKey);
  await assert.rejects(verify(kit.sign(claims(), { kid: "never-published" })), unknownKey);
  assert.equal(kit.fetches() - start, 2, "unknown kids within the cooldown fetch nothing");
});

test("concurrent verifications of a new kid share one fetch", async () => {
  const verify = rs256Verifier(kit.fetchKeys({ cooldownSeconds }), now);
  const start = kit.fetches();
  await Promise.all(Array.from({ length: 8 }, () => verify(kit.sign(claims()))));
  assert.equal(kit.fetches() - start, 1, "concurrent first verifications fetch once");

  await sleep(cooldownSeconds * 1_000 + 100);
  kit.publish("rotated-3");
  const token = kit.sign(claims(), { kid: "rotated-3" });
  const verified = await Promise.all(Array.from({ length: 8 }, () => verify(token)));
  assert.deepEqual(
    verified.map((payload) => payload.sub),
    Array(8).fill("alice"),
  );
  assert.equal(kit.fetches() - start, 2, "eight verifications of the new kid fetched once");
});

test("keys that cannot be fetched are unavailable (503, retryable), not a refused token", async () => {
  const closed = await signingKit();
  const verify = rs256Verifier(jwksFetcher(closed.jwksUrl), now);
  const token = closed.sign(closed.claims("demo-jwt", "alice"));
  await closed.close();
  await assert.rejects(
    verify(token),
    (error: Error & { code?: string; retryable?: boolean }) =>
      error.code === "unavailable" &&
      error.retryable === true &&
      /could not fetch token signing keys/.test(error.message),
  );
});

test("a token without a kid is refused before any fetch", async () => {
  const verify = rs256Verifier(kit.fetchKeys(), now);
  const start = kit.fetches();
  const [, payload, signature] = kit.sign(claims()).split(".");
  const header = Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })).toString("base64url");
  await assert.rejects(verify(`${header}.${payload}.${signature}`), /names no signing key/);
  assert.equal(kit.fetches(), start);
});
