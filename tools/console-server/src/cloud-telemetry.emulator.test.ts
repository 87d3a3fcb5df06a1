import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { createClients, loadConfig, Publisher, tokenVerifierFor, topics } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import {
  emulatorIdToken,
  listen,
  memoryLogger,
  testEnv,
  testProjectId,
} from "@syncstack/shared/testing";
import { consoleEnvSchema, telemetrySourceOf } from "./config.ts";
import { createConsoleServer } from "./console-app.ts";

// There is no emulator for Cloud Trace or Cloud Monitoring: a local server answers as their
// APIs document (projects.traces.list / get, the Prometheus instant query), and the console's
// CLOUD_TRACE_URL and CLOUD_MONITORING_URL point at it.
const projectId = testProjectId();
const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
const seen: { method: string; url: string; authorization: string; body: string }[] = [];
const cloudTrace = {
  projectId,
  traceId,
  spans: [
    {
      spanId: "1311768467294899695",
      kind: "RPC_SERVER",
      name: "POST /v1/sync",
      startTime: "2026-12-04T10:00:00.000000123Z",
      endTime: "2026-12-04T10:00:00.100000123Z",
      labels: { "service.name": "sync" },
    },
    {
      spanId: "81985529216486895",
      name: "realtime-updates process",
      startTime: "2026-12-04T10:00:00.050Z",
      endTime: "2026-12-04T10:00:00.080Z",
      parentSpanId: "1311768467294899695",
      labels: { "service.name": "analytics" },
    },
  ],
};
const readBody = async (request: IncomingMessage) => {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text;
};
const fakeGoogle = createServer(async (request, response) => {
  const body = await readBody(request);
  const url = request.url ?? "";
  seen.push({
    method: request.method ?? "",
    url,
    authorization: String(request.headers.authorization),
    body,
  });
  const send = (status: number, json: unknown) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(json));
  };
  const base = `/v1/projects/${projectId}`;
  if (url.startsWith(`${base}/traces?`)) return send(200, { traces: [cloudTrace] });
  if (url === `${base}/traces/${traceId}`) return send(200, cloudTrace);
  if (url.startsWith(`${base}/traces/`)) {
    return send(404, { error: { code: 404, message: "Trace not found", status: "NOT_FOUND" } });
  }
  if (url === `${base}/location/global/prometheus/api/v1/query`) {
    const query = new URLSearchParams(body).get("query") ?? "";
    const sample = (metric: Record<string, string>, value: string) => ({
      status: "success",
      data: { resultType: "vector", result: [{ metric, value: [1_796_378_400, value] }] },
    });
    if (query.includes("syncstack_outbox_backlog")) return send(200, sample({}, "3"));
    if (query.startsWith("sum by (job)")) return send(200, sample({ job: "sync" }, "30"));
    if (query.includes("syncstack_messages_handled")) {
      return send(200, sample({ subscription: "realtime-updates-analytics" }, "120"));
    }
    return send(200, { status: "success", data: { resultType: "vector", result: [] } });
  }
  send(404, { error: { code: 404, message: `no route ${url}` } });
});

let consoleUrl = "";
let closeAll: () => Promise<void> = async () => {};
before(async () => {
  fakeGoogle.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => fakeGoogle.once("listening", resolve));
  const google = `http://127.0.0.1:${(fakeGoogle.address() as AddressInfo).port}`;
  const config = loadConfig(
    consoleEnvSchema,
    testEnv(projectId, {
      BACKUP_URL: "http://127.0.0.1:9",
      ANALYTICS_URL: "http://127.0.0.1:9",
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
      CONSOLE_TELEMETRY_SOURCE: "cloud",
      CLOUD_TRACE_URL: google,
      CLOUD_MONITORING_URL: google,
    }),
  );
  const clients = createClients(config);
  // The topology lists the registry's subscriptions and dead letters: they must exist.
  await provisionTopology(clients.pubsub, topics, { serviceUrls: {}, nativePolicies: false });
  const publisher = new Publisher(clients.pubsub, { deadlineMs: 10_000 });
  const server = createConsoleServer({
    config,
    logger: memoryLogger(projectId).logger,
    firestore: clients.firestore,
    pubsub: clients.pubsub,
    publisher,
    verifyToken: tokenVerifierFor(config),
    googleHeaders: async () => ({ authorization: "Bearer console-account-token" }),
  });
  const listening = await listen(server.app);
  consoleUrl = listening.url;
  closeAll = async () => {
    await listening.close();
    await server.close();
    await publisher.close();
    await Promise.allSettled([clients.firestore.terminate(), clients.pubsub.close()]);
    await new Promise((resolve) => fakeGoogle.close(resolve));
  };
});
after(() => closeAll());

const asAdmin = (path: string) =>
  fetch(`${consoleUrl}${path}`, {
    headers: { authorization: `Bearer ${emulatorIdToken(projectId, "ops", { admin: true })}` },
  });

test("the traces list is read from Cloud Trace as the console's account, in the collector's shape", async () => {
  const answer = await asAdmin("/v1/console/traces?limit=5");
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), {
    traces: [
      {
        traceId,
        root: "sync: POST /v1/sync",
        services: ["analytics", "sync"],
        spans: 2,
        errors: 0,
        startTime: "2026-12-04T10:00:00.000Z",
        durationMs: 100,
      },
    ],
  });
  const list = seen.find((request) => request.url.includes("/traces?"));
  assert.ok(list, "Cloud Trace's list was asked");
  assert.equal(list.authorization, "Bearer console-account-token");
  const search = new URL(list.url, "http://x").searchParams;
  assert.equal(search.get("view"), "COMPLETE");
  assert.equal(search.get("pageSize"), "5");
  assert.equal(search.get("orderBy"), "start desc");
});

test("a service filter keeps only the traces with a span of that service", async () => {
  const sync = await (await asAdmin("/v1/console/traces?service=sync")).json();
  assert.equal((sync as { traces: unknown[] }).traces.length, 1);
  const files = await (await asAdmin("/v1/console/traces?service=files")).json();
  assert.deepEqual(files, { traces: [] });
});

test("one trace is read from Cloud Trace; an unknown one is a 404", async () => {
  const answer = await asAdmin(`/v1/console/traces/${traceId.toUpperCase()}`);
  assert.equal(answer.status, 200);
  const trace = (await answer.json()) as {
    traceId: string;
    droppedSpans: number;
    spans: { spanId: string; parentSpanId?: string; service: string; kind: string }[];
  };
  assert.equal(trace.traceId, traceId);
  assert.equal(trace.droppedSpans, 0);
  assert.deepEqual(
    trace.spans.map((span) => [span.spanId, span.parentSpanId, span.service, span.kind]),
    [
      ["1234567890abcdef", undefined, "sync", "server"],
      ["0123456789abcdef", "1234567890abcdef", "analytics", "unspecified"],
    ],
  );
  const missing = await asAdmin(`/v1/console/traces/${"0".repeat(31)}1`);
  assert.equal(missing.status, 404);
  const error = (await missing.json()) as { error: { code: string; message: string } };
  assert.equal(error.error.code, "not_found");
  assert.match(error.error.message, /Cloud Trace has no trace 0+1/);
});

test("the topology's rates are read from Cloud Monitoring's PromQL API", async () => {
  const answer = await asAdmin("/v1/console/topology");
  assert.equal(answer.status, 200, await answer.clone().text());
  const { metrics } = (await answer.json()) as { metrics: Record<string, unknown> };
  assert.equal(metrics.source, `cloud-monitoring:${projectId}`);
  assert.equal(metrics.error, null);
  assert.deepEqual(metrics.requests_per_min, { sync: 30 });
  assert.equal(metrics.outbox_backlog, 3);
  assert.deepEqual(
    (metrics.subscriptions as Record<string, { handled_per_min: number }>)[
      "realtime-updates-analytics"
    ]?.handled_per_min,
    120,
  );
  const queries = seen.filter((request) => request.url.endsWith("/prometheus/api/v1/query"));
  assert.ok(queries.length >= 8, "every figure's query was posted");
  for (const query of queries) {
    assert.equal(query.method, "POST");
    assert.equal(query.authorization, "Bearer console-account-token");
  }
});

test("the source is the collector with TELEMETRY_URL, Google Cloud on Cloud Run, else none", () => {
  const rule = (env: Record<string, string>) =>
    telemetrySourceOf(
      loadConfig(consoleEnvSchema, {
        GOOGLE_CLOUD_PROJECT: "demo-project",
        BACKUP_URL: "http://b",
        ANALYTICS_URL: "http://a",
        ...env,
      }),
    );
  assert.equal(rule({ TELEMETRY_URL: "http://127.0.0.1:4318", K_SERVICE: "c" }), "collector");
  assert.equal(rule({ K_SERVICE: "syncstack-console" }), "cloud");
  assert.equal(rule({ K_SERVICE: "c", FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080" }), "none");
  assert.equal(rule({}), "none");
  assert.equal(rule({ CONSOLE_TELEMETRY_SOURCE: "cloud" }), "cloud");
  assert.equal(rule({ CONSOLE_TELEMETRY_SOURCE: "none", TELEMETRY_URL: "http://t" }), "none");
  assert.throws(
    () => rule({ CONSOLE_TELEMETRY_SOURCE: "collector" }),
    /CONSOLE_TELEMETRY_SOURCE=collector needs TELEMETRY_URL/,
  );
});
