import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, test } from "node:test";
import { emulatorTokenVerifier, googleTokenVerifier } from "./auth.ts";
import { signingKit } from "./testing/signed-tokens.ts";

const projectId = "demo-auth";
const now = 1_800_000_000;
const claims = {
  iss: `https://securetoken.google.com/${projectId}`,
  aud: projectId,
  sub: "alice",
  iat: now - 10,
  exp: now + 3_600,
};
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

const kit = await signingKit();
after(() => kit.close());
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signed = (payload: object, key?: typeof other.privateKey, kid?: string) =>
  kit.sign(payload, { key, kid });

test("a Google-signed token with the project's claims yields its uid; keys are cached", async () => {
  const verify = googleTokenVerifier(projectId, kit.fetchKeys(), () => now);
  const fetched = kit.fetches();
  assert.deepEqual((await verify(signed(claims))).uid, "alice");
  await verify(signed(claims));
  assert.equal(kit.fetches() - fetched, 1);
});

test("production rejects unsigned, forged, foreign and expired tokens", async () => {
  const verify = googleTokenVerifier(projectId, kit.fetchKeys(), () => now);
  const rejects = (token: string, message: RegExp) =>
    assert.rejects(
      verify(token),
      (error: Error & { code?: string }) =>
        error.code === "unauthenticated" && message.test(error.message),
    );
  await rejects(`${encode({ alg: "none" })}.${encode(claims)}.`, /RS256/);
  await rejects(signed(claims, other.privateKey), /signature is invalid/);
  await rejects(signed(claims, undefined, "k2"), /unknown key/);
  await rejects(signed({ ...claims, aud: "demo-other" }), /audience/);
  await rejects(signed({ ...claims, iss: "https://accounts.google.com" }), /issuer/);
  await rejects(signed({ ...claims, exp: now - 3_600 }), /expired/);
  await rejects(signed({ ...claims, iat: now + 3_600 }), /issued in the future/);
  await rejects(signed({ ...claims, sub: "" }), /no subject/);
  await rejects("a.b", /not a JWT/);
});

test("emulator mode accepts unsigned tokens but still checks the claims", async () => {
  const verify = emulatorTokenVerifier(projectId, () => now);
  assert.equal((await verify(`${encode({ alg: "none" })}.${encode(claims)}.`)).uid, "alice");
  await assert.rejects(
    verify(`${encode({ alg: "none" })}.${encode({ ...claims, aud: "x" })}.`),
    /audience/,
  );
  await assert.rejects(verify(`${encode({ alg: "HS256" })}.${encode(claims)}.`), /algorithm HS256/);
});
