import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { analyticsEnvSchema, analyticsService } from "@syncstack/analytics";
import {
  createLogger,
  metricNames,
  realtimeUpdates,
  setupTelemetry,
  traceIdHeader,
  userCreated,
} from "@syncstack/shared";
import { listen, startServiceUnderTest, testProjectId, waitFor } from "@syncstack/shared/testing";
import { syncEnvSchema, syncService } from "@syncstack/sync";
import {
  type CollectedSpan,
  createCollectorApp,
  type MetricSeries,
  TelemetryStore,
} from "@syncstack/telemetry-collector";

// The local stack's collector, and the services exporting to it as the stack configures them.
const collector = await listen(
  createCollectorApp(
    new TelemetryStore(),
    createLogger({ projectId: "local", level: "ERROR", write: () => {} }),
  ),
);
const telemetry = setupTelemetry({
  serviceName: "telemetry-test",
  exporter: "otlp",
  metricsExporter: "otlp",
  otlpEndpoint: collector.url,
  spanExportDelayMs: 100,
  metricExportIntervalMs: 1_000,
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
const startSync = () =>
  startServiceUnderTest(
    { name: "sync", envSchema: syncEnvSchema, define: (c) => syncService(c) },
    {
      projectId,
      topics: [userCreated],
      user: "alice",
      background: true,
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
  await collector.close();
});

async function read<T>(path: string): Promise<T | undefined> {
  const response = await fetch(`${collector.url}${path}`);
  return response.ok ? ((await response.json()) as T) : undefined;
}

test("the answer's trace id finds the whole trace in the local collector: sync and analytics", async () => {
  const response = await sync.post("/v1/sync", {
    collection: "notes",
    document: "collected",
    data: { title: "hi" },
  });
  assert.equal(response.status, 200);
  const traceId = response.headers.get(traceIdHeader);
  assert.ok(traceId);

  const spans = await waitFor("the trace with analytics' handling", async () => {
    const trace = await read<{ spans: CollectedSpan[] }>(`/api/traces/${traceId}`);
    const handled = trace?.spans.some(
      (span) =>
        span.name === "realtime-updates process" &&
        span.attributes["syncstack.service"] === "analytics",
    );
    return handled ? trace?.spans : undefined;
  });
  const request = spans.find((span) => span.name === "POST /v1/sync");
  assert.equal(request?.kind, "server");
  assert.equal(request?.attributes["syncstack.service"], "sync");
  assert.equal(request?.attributes["syncstack.uid"], "alice");
  const publish = spans.find((span) => span.name === "realtime-updates publish");
  assert.equal(publish?.kind, "producer");
  const push = spans.find((span) => span.name === "POST /pubsub/realtime-updates");
  assert.equal(push?.attributes["syncstack.service"], "analytics");
  assert.equal(push?.parentSpanId, publish?.spanId, "the push request continues the publish");
  const consumer = spans.find((span) => span.name === "realtime-updates process");
  assert.equal(consumer?.parentSpanId, push?.spanId, "the handler runs in the push request");

  const recent = await read<{ traces: { traceId: string; root: string }[] }>("/api/traces");
  assert.equal(
    recent?.traces.find((t) => t.traceId === traceId)?.root,
    "telemetry-test: POST /v1/sync",
  );
});

test("the collector holds the services' metric series", async () => {
  const requests = await waitFor("the request series", async () => {
    const found = await read<{ series: MetricSeries[] }>(
      `/api/metrics?name=${metricNames.httpDuration}`,
    );
    return found?.series.find(
      (s) => s.attributes.route === "/v1/sync" && s.attributes.status === 200,
    );
  });
  assert.equal(requests.kind, "histogram");
  assert.ok((requests.points.at(-1)?.value ?? 0) >= 1);
  const backlog = await waitFor("the outbox gauge", async () => {
    const found = await read<{ series: MetricSeries[] }>(
      `/api/metrics?name=${metricNames.outboxBacklog}`,
    );
    return found?.series[0];
  });
  assert.equal(backlog.kind, "gauge");
  assert.ok((backlog.points.at(-1)?.value ?? -1) >= 0);
});
