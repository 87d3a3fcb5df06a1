import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { test } from "node:test";
import { emulatorTokenVerifier, googleTokenVerifier, type KeyFetcher } from "./auth.ts";

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

const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
let fetches = 0;
const fetchKeys: KeyFetcher = async () => {
  fetches++;
  return { keys: [jwk], maxAgeSeconds: 3_600 };
};

function signed(payload: object, key = privateKey, kid = "k1"): string {
  const head = `${encode({ alg: "RS256", kid, typ: "JWT" })}.${encode(payload)}`;
  return `${head}.${sign("RSA-SHA256", Buffer.from(head), key).toString("base64url")}`;
}

test("a Google-signed token with the project's claims yields its uid; keys are cached", async () => {
  const verify = googleTokenVerifier(projectId, fetchKeys, () => now);
  assert.deepEqual((await verify(signed(claims))).uid, "alice");
  await verify(signed(claims));
  assert.equal(fetches, 1);
});

test("production rejects unsigned, forged, foreign and expired tokens", async () => {
  const verify = googleTokenVerifier(projectId, fetchKeys, () => now);
  const rejects = (token: string, message: RegExp) =>
    assert.rejects(
      verify(token),
      (error: Error & { code?: string }) =>
        error.code === "unauthenticated" && message.test(error.message),
    );
  await rejects(`${encode({ alg: "none" })}.${encode(claims)}.`, /RS256/);
  await rejects(signed(claims, other.privateKey), /signature is invalid/);
  await rejects(signed(claims, privateKey, "k2"), /unknown key/);
  await rejects(signed({ ...claims, aud: "demo-other" }), /audience/);
  await rejects(signed({ ...claims, iss: "https://accounts.google.com" }), /issuer/);
  await rejects(signed({ ...claims, exp: now - 3_600 }), /expired/);
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
