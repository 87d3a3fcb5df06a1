import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { after, test } from "node:test";
import { z } from "zod";
import { baseEnvSchema, ConfigError, loadConfig } from "../config.ts";
import { closeServiceContext, createServiceApp, createServiceContext } from "../service.ts";
import { listen, memoryLogger, signingKit } from "../testing/index.ts";
import { defineTopic, pushPath } from "../topics/topic.ts";
import { consumer } from "./consumer.ts";
import { pushAuthEnabled, pushTokenVerifier, pushTokenVerifierFor } from "./push-auth.ts";

const projectId = "demo-push-auth";
const pushAccount = "syncstack-push@demo-push-auth.iam.gserviceaccount.com";
const audience = "https://analytics-123.europe-west1.run.app";
const now = 1_800_000_000;
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

// Google's OIDC signing keys, stood in for by a local key served as a JWKS on loopback.
const google = await signingKit();
const fetchKeys = google.fetchKeys();
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });

/** The claims of a token Pub/Sub push sends, as Google signs them. */
const claims = {
  iss: "https://accounts.google.com",
  aud: audience,
  azp: "112233",
  sub: "112233",
  email: pushAccount,
  email_verified: true,
  iat: now - 10,
  exp: now + 3_590,
};

const signed = (payload: object, key?: typeof stranger.privateKey) => google.sign(payload, { key });

// No client call is made: the handler acks without touching Pub/Sub or Firestore.
const config = loadConfig(baseEnvSchema, {
  GOOGLE_CLOUD_PROJECT: projectId,
  PORT: "8080",
  PUBSUB_EMULATOR_HOST: "127.0.0.1:9",
  FIRESTORE_EMULATOR_HOST: "127.0.0.1:9",
});
const ctx = createServiceContext("analytics", config, { logger: memoryLogger(projectId).logger });
const topic = defineTopic({
  name: "push-auth-test",
  description: "test topic",
  schema: z.object({ n: z.number() }),
  schemaVersion: 1,
  retry: { minBackoffSeconds: 1, maxBackoffSeconds: 2, maxDeliveryAttempts: 5 },
  publishers: [],
  subscriptions: [{ service: "analytics", delivery: "push", ackDeadlineSeconds: 10 }],
});
const handled: number[] = [];
const definition = {
  consumers: [consumer(topic, async ({ data }) => void handled.push(data.n))],
};
const verify = pushTokenVerifier({
  audience,
  serviceAccount: pushAccount,
  fetchKeys,
  now: () => now,
});
const server = await listen(createServiceApp(ctx, definition, verify));
after(async () => {
  await server.close();
  await closeServiceContext(ctx);
  await google.close();
});

let messageId = 0;
async function push(authorization: string | undefined, url = `${server.url}${pushPath(topic)}`) {
  const n = ++messageId;
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: JSON.stringify({
      subscription: `projects/${projectId}/subscriptions/analytics-push-auth-test`,
      message: {
        data: Buffer.from(JSON.stringify({ n })).toString("base64"),
        messageId: String(n),
        publishTime: new Date().toISOString(),
      },
    }),
  });
  const body =
    response.status === 204
      ? undefined
      : ((await response.json()) as { error: { code: string; message: string } });
  return { status: response.status, body, processed: handled.includes(n) };
}

test("a push with a valid Google-signed OIDC token is processed and acked", async () => {
  const result = await push(`Bearer ${signed(claims)}`);
  assert.deepEqual(result, { status: 204, body: undefined, processed: true });
});

test("pushes with a missing or bad token are refused with an error naming the problem, unprocessed", async () => {
  const refusals: [string | undefined, number, RegExp][] = [
    [undefined, 401, /Authorization: Bearer/],
    ["Basic abc", 401, /Authorization: Bearer/],
    [`Bearer ${signed({ ...claims, exp: now - 3_600 })}`, 401, /expired/],
    [`Bearer ${signed({ ...claims, aud: "https://other.run.app" })}`, 401, /audience must be/],
    [`Bearer ${signed({ ...claims, iss: "https://evil.example.com" })}`, 401, /issuer/],
    [
      `Bearer ${signed({ ...claims, email: "someone@evil.iam.gserviceaccount.com" })}`,
      403,
      /push service account/,
    ],
    [`Bearer ${signed({ ...claims, email_verified: false })}`, 403, /push service account/],
    [`Bearer ${signed(claims, stranger.privateKey)}`, 401, /signature is invalid/],
    [
      `Bearer ${signed(claims).replace(/\.[^.]+\./, `.${encode({ ...claims, n: 1 })}.`)}`,
      401,
      /signature is invalid/,
    ],
    [`Bearer ${encode({ alg: "none" })}.${encode(claims)}.`, 401, /RS256/],
  ];
  for (const [authorization, status, message] of refusals) {
    const result = await push(authorization);
    assert.equal(result.status, status, `${authorization}: ${JSON.stringify(result.body)}`);
    assert.match(result.body?.error.message ?? "", message);
    assert.equal(result.processed, false, `${authorization} was processed`);
  }
});

test("without PUSH_AUDIENCE the audience is the push endpoint's URL, Pub/Sub's default", async () => {
  const endpointVerify = pushTokenVerifier({
    serviceAccount: pushAccount,
    fetchKeys,
    now: () => now,
  });
  const endpoint = "https://files-1.run.app/pubsub/file-uploaded";
  await endpointVerify(signed({ ...claims, aud: endpoint }), endpoint);
  await assert.rejects(
    endpointVerify(signed(claims), endpoint),
    /audience must be https:\/\/files-1/,
  );
});

test("push authentication is on by default on Cloud Run only, and then needs the service account", () => {
  assert.equal(pushAuthEnabled({}), false);
  assert.equal(pushAuthEnabled({ K_SERVICE: "syncstack-files" }), true);
  assert.equal(pushAuthEnabled({ K_SERVICE: "syncstack-files", PUSH_AUTH: "off" }), false);
  assert.equal(pushAuthEnabled({ PUSH_AUTH: "on" }), true);
  assert.equal(pushTokenVerifierFor({}), undefined);
  assert.throws(
    () => pushTokenVerifierFor({ K_SERVICE: "syncstack-files" }),
    (error: Error) =>
      error instanceof ConfigError && /PUSH_SERVICE_ACCOUNT is required/.test(error.message),
  );
  assert.equal(
    typeof pushTokenVerifierFor({ PUSH_AUTH: "on", PUSH_SERVICE_ACCOUNT: pushAccount }),
    "function",
  );
  assert.throws(() => loadConfig(baseEnvSchema, { PORT: "1", PUSH_AUTH: "yes" }), /PUSH_AUTH/);
});
