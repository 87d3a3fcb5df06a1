import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { analyticsEnvSchema, analyticsService } from "@syncstack/analytics";
import {
  metricNames,
  realtimeUpdates,
  setupTelemetry,
  traceIdHeader,
  userCreated,
} from "@syncstack/shared";
import { startServiceUnderTest, testProjectId, waitFor } from "@syncstack/shared/testing";
import { syncEnvSchema, syncService } from "@syncstack/sync";
import { metricValue } from "./metric-points.ts";

// Spans and metric points kept in this process: sync and analytics both run in it.
const telemetry = setupTelemetry({
  serviceName: "telemetry-test",
  exporter: "memory",
  metricsExporter: "memory",
});
const projectId = testProjectId();
const startAnalytics = () =>
  startServiceUnderTest(
    { name: "analytics", envSchema: analyticsEnvSchema, define: (c) => analyticsService(c) },
    {
      projectId,
      topics: [realtimeUpdates],
      beforeClose: (definition) => definition.folder.stop(),
    },
  );
// No background work: the sweeper runs when the test says; every entry is its at once.
const startSync = () =>
  startServiceUnderTest(
    { name: "sync", envSchema: syncEnvSchema, define: (c) => syncService(c) },
    {
      projectId,
      topics: [userCreated],
      user: "alice",
      env: { OUTBOX_SWEEP_AGE_MS: "0" },
      beforeClose: (definition) => definition.outbox.drain(),
    },
  );
let analytics: Awaited<ReturnType<typeof startAnalytics>>;
let sync: Awaited<ReturnType<typeof startSync>>;

before(async () => {
  analytics = await startAnalytics();
  sync = await startSync();
});
after(async () => {
  await sync.close();
  await analytics.close();
  await telemetry.shutdown();
});

const spans = () => telemetry.memory?.getFinishedSpans() ?? [];

test("an event the sweeper publishes later stays in the trace of the request that made it", async () => {
  // The live publish never happens (a Pub/Sub outage, a crash): the entry waits in the outbox.
  const live = sync.definition.outbox.published;
  sync.definition.outbox.published = async () => {};
  let traceId: string | null;
  try {
    const response = await sync.post("/v1/sync", {
      collection: "notes",
      document: "traced-later",
      data: { title: "hi" },
      source: "test",
    });
    assert.equal(response.status, 200);
    traceId = response.headers.get(traceIdHeader);
  } finally {
    sync.definition.outbox.published = live;
  }
  assert.match(traceId ?? "", /^[0-9a-f]{32}$/);
  assert.equal(
    spans().some((span) => span.name === "realtime-updates publish"),
    false,
    "nothing was published at commit",
  );

  // Outside any request: only the outbox entry knows the trace.
  assert.equal(await sync.definition.sweeper.sweep(), 1);

  const consumed = await waitFor("analytics' handling of the event", () =>
    spans().find(
      (span) =>
        span.name === "realtime-updates process" &&
        span.attributes["syncstack.document"] === "traced-later",
    ),
  );
  assert.equal(
    consumed.spanContext().traceId,
    traceId,
    "the consumer's span is in the request's trace",
  );
  assert.equal(consumed.attributes["syncstack.service"], "analytics");
  const inTrace = spans().filter((span) => span.spanContext().traceId === traceId);
  const names = inTrace.map((span) => span.name);
  for (const name of ["POST /v1/sync", "sync commit", "realtime-updates publish"])
    assert.ok(names.includes(name), `${name} is in the trace (it has ${names.join(", ")})`);
  const request = inTrace.find((span) => span.name === "POST /v1/sync");
  assert.equal(request?.attributes["syncstack.uid"], "alice");
  assert.equal(request?.attributes["syncstack.collection"], "notes");

  const requestLog = sync.logs.find(
    (entry) => entry.message === "POST /v1/sync 200" && entry.document === "traced-later",
  );
  assert.ok(requestLog, "the request log names the document");
  assert.equal(requestLog.uid, "alice");
  assert.equal(requestLog.collection, "notes");
  assert.equal(
    requestLog["logging.googleapis.com/trace"],
    `projects/${projectId}/traces/${traceId}`,
  );
});

test("an event published live at commit is in its request's trace too", async () => {
  const response = await sync.post("/v1/sync", {
    collection: "notes",
    document: "traced-live",
    data: { title: "hi" },
  });
  assert.equal(response.status, 200);
  const traceId = response.headers.get(traceIdHeader);
  const consumed = await waitFor("analytics' handling of the event", () =>
    spans().find(
      (span) =>
        span.name === "realtime-updates process" &&
        span.attributes["syncstack.document"] === "traced-live",
    ),
  );
  assert.equal(consumed.spanContext().traceId, traceId);
});

test("an error answer carries its trace id in the body and the header", async () => {
  const response = await sync.post("/v1/sync", { collection: "notes" });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { trace_id?: string } };
  assert.match(body.error.trace_id ?? "", /^[0-9a-f]{32}$/);
  assert.equal(body.error.trace_id, response.headers.get(traceIdHeader));
});

test("metrics count requests by route and status, handled messages and dead letters", async () => {
  const route = { route: "/v1/sync", method: "POST" };
  const ok = await metricValue(telemetry, metricNames.httpDuration, { ...route, status: 200 });
  const bad = await metricValue(telemetry, metricNames.httpDuration, { ...route, status: 400 });
  assert.ok(ok >= 2, `two successful syncs were counted (${ok})`);
  assert.ok(bad >= 1, `the rejected sync was counted (${bad})`);

  const subscription = { subscription: "analytics-realtime-updates", topic: "realtime-updates" };
  const handled = await waitFor("the two events counted as handled", async () => {
    const count = await metricValue(telemetry, metricNames.messagesHandled, subscription);
    return count >= 2 ? count : undefined;
  });
  assert.ok(handled >= 2);
  assert.ok((await metricValue(telemetry, metricNames.eventLag, subscription)) >= 2);

  const before = await metricValue(telemetry, metricNames.messagesDeadLettered, subscription);
  // A payload the topic's schema refuses can never succeed: acked into the dead-letter topic.
  assert.equal(await analytics.push(realtimeUpdates, { collection: "notes" }), 204);
  const deadLettered = await metricValue(telemetry, metricNames.messagesDeadLettered, subscription);
  assert.equal(deadLettered - before, 1);
  assert.ok(
    (await metricValue(telemetry, metricNames.handlerDuration, {
      ...subscription,
      outcome: "dead_letter",
    })) >= 1,
  );
});
