// Every endpoint but health checks and push endpoints refuses a missing or bad Firebase ID
// token with a JSON 401, in emulator mode (unsigned tokens) and in production mode (RS256
// signatures checked against keys served by a local stand-in for Google's endpoint).
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { test } from "node:test";
import { googleTokenVerifier } from "@syncstack/shared";
import { emulatorIdToken, signingKit, testProjectId } from "@syncstack/shared/testing";
import { samplePath } from "../fuzz/route-models.ts";
import { routesOf } from "../fuzz/routes-of.ts";
import {
  closeServices,
  type ServicesOptions,
  startServices,
} from "../harness/services-under-test.ts";

const projectId = testProjectId();
const now = () => Math.floor(Date.now() / 1_000);
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Bad Authorization headers every mode refuses. */
const malformed: Record<string, string | undefined> = {
  missing: undefined,
  "empty bearer": "Bearer ",
  "basic scheme": `Basic ${Buffer.from("a:b").toString("base64")}`,
  "not a JWT": "Bearer not-a-token",
  "two parts": "Bearer a.b",
  "bad base64 JSON": "Bearer !!!.@@@.###",
  "payload is an array": `Bearer ${encode({ alg: "none" })}.${encode([1])}.`,
  "two tokens": `Bearer ${emulatorIdToken(projectId, "alice")} ${emulatorIdToken(projectId, "bob")}`,
};

/** Runs `tokens` against every protected route of every service built with `options`. */
async function refusesEverywhere(
  options: ServicesOptions,
  tokens: Record<string, string | undefined>,
  valid: string,
): Promise<number> {
  const services = await startServices(projectId, options);
  let checked = 0;
  try {
    for (const service of Object.values(services)) {
      for (const route of routesOf(service.app)) {
        const path = samplePath(route.path);
        if (["/healthz", "/readyz"].includes(path) || path.startsWith("/pubsub/")) continue;
        const call = (authorization: string | undefined) =>
          fetch(`${service.url}${path}`, {
            method: route.method,
            headers: {
              "content-type": "application/json",
              ...(authorization === undefined ? {} : { authorization }),
            },
            body: route.method === "GET" ? undefined : "{}",
          });
        for (const [name, authorization] of Object.entries(tokens)) {
          const response = await call(authorization);
          const what = `${service.name} ${route.method} ${path} with ${name}`;
          assert.equal(response.status, 401, what);
          const { error } = (await response.json()) as { error: { code: string; message: string } };
          assert.equal(error.code, "unauthenticated", what);
          assert.match(error.message, /token|Authorization/, what);
          checked++;
        }
        const accepted = await call(`Bearer ${valid}`);
        assert.notEqual(accepted.status, 401, `${service.name} ${path} takes a valid token`);
      }
    }
  } finally {
    await closeServices(services);
  }
  return checked;
}

test("emulator mode: missing, malformed, expired, foreign and subject-less tokens are 401", async () => {
  const bad = (claims: Record<string, unknown>) =>
    `Bearer ${emulatorIdToken(projectId, "alice", claims)}`;
  const checked = await refusesEverywhere(
    {},
    {
      ...malformed,
      expired: bad({ iat: now() - 7_200, exp: now() - 3_600 }),
      "wrong audience": bad({ aud: "demo-other" }),
      "wrong issuer": bad({ iss: "https://securetoken.google.com/demo-other" }),
      "issued in the future": bad({ iat: now() + 3_600, exp: now() + 7_200 }),
      "no subject": bad({ sub: "" }),
      "HS256 algorithm": `Bearer ${encode({ alg: "HS256" })}.${encode({ sub: "a" })}.c2ln`,
    },
    emulatorIdToken(projectId, "alice", { admin: true }),
  );
  assert.ok(checked >= 6 * 14, `${checked} refusals checked`);
});

test("production mode: unsigned, tampered, foreign-key, expired, wrong-audience and wrong-issuer tokens are 401", async (t) => {
  const kit = await signingKit();
  t.after(() => kit.close());
  const claims = { ...kit.claims(projectId, "alice"), admin: true };
  const valid = kit.sign(claims);
  const [header, , signature] = valid.split(".");
  const other = generateKeyPairSync("rsa", { modulusLength: 2_048 });
  const checked = await refusesEverywhere(
    { verifyToken: googleTokenVerifier(projectId, kit.fetchKeys()) },
    {
      ...malformed,
      "unsigned (alg none)": `Bearer ${emulatorIdToken(projectId, "alice", { admin: true })}`,
      "tampered payload": `Bearer ${header}.${encode({ ...claims, sub: "mallory" })}.${signature}`,
      "tampered signature": `Bearer ${valid.slice(0, -4)}${valid.endsWith("AAAA") ? "BBBB" : "AAAA"}`,
      "signed by another key": `Bearer ${kit.sign(claims, { key: other.privateKey })}`,
      "unknown key id": `Bearer ${kit.sign(claims, { kid: "k2" })}`,
      expired: `Bearer ${kit.sign({ ...claims, iat: now() - 7_200, exp: now() - 3_600 })}`,
      "wrong audience": `Bearer ${kit.sign({ ...claims, aud: "demo-other" })}`,
      "wrong issuer": `Bearer ${kit.sign({ ...claims, iss: "https://accounts.google.com" })}`,
    },
    valid,
  );
  assert.ok(checked >= 6 * 16, `${checked} refusals checked`);
});
