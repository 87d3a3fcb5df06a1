import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createLogger, instruments, setupTelemetry, tracer } from "@syncstack/shared";
import { listen } from "@syncstack/shared/testing";
import { createCollectorApp } from "./collector-app.ts";
import type { CollectedSpan } from "./otlp-json.ts";
import type { MetricSeries, TraceSummary } from "./telemetry-store.ts";
import { TelemetryStore } from "./telemetry-store.ts";

const store = new TelemetryStore({ maxTraces: 3, maxPointsPerSeries: 2 });
const logger = createLogger({ projectId: "local", level: "ERROR", write: () => {} });
let server: Awaited<ReturnType<typeof listen>>;
let telemetry: ReturnType<typeof setupTelemetry>;

before(async () => {
  server = await listen(createCollectorApp(store, logger));
  // The workspace's own OTLP/HTTP exporters, as the services use them, export to it.
  telemetry = setupTelemetry({
    serviceName: "collector-test",
    exporter: "otlp",
    metricsExporter: "otlp",
    otlpEndpoint: server.url,
    spanExportDelayMs: 10,
    metricExportIntervalMs: 1_000,
  });
});
after(async () => {
  await telemetry.shutdown();
  await server.close();
});

async function get<T>(path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let tries = 0; tries < 100; tries++) {
    const found = await probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("the telemetry collector", () => {
  test("keeps the spans the OTLP exporter sends, one trace by id with parent links", async () => {
    const traceId = tracer().startActiveSpan("parent", (parent) => {
      tracer()
        .startSpan("child", { attributes: { "syncstack.document": "d1" } })
        .end();
      parent.end();
      return parent.spanContext().traceId;
    });
    const found = await until("the trace", async () => {
      const { status, body } = await get<{ spans: CollectedSpan[] }>(`/api/traces/${traceId}`);
      return status === 200 && body.spans.length === 2 ? body : undefined;
    });
    const [first, second] = found.spans;
    assert.equal(first?.name, "parent");
    assert.equal(first?.service, "collector-test");
    assert.equal(second?.parentSpanId, first?.spanId);
    assert.equal(second?.attributes["syncstack.document"], "d1");

    const { body } = await get<{ traces: TraceSummary[] }>("/api/traces?service=collector-test");
    const summary = body.traces.find((t) => t.traceId === traceId);
    assert.equal(summary?.root, "collector-test: parent");
    assert.equal(summary?.spans, 2);
  });

  test("keeps metric series with their latest points", async () => {
    instruments().messagesHandled.add(3, { subscription: "s1", topic: "t1" });
    const series = await until("the counter's series", async () => {
      const { body } = await get<{ series: MetricSeries[] }>(
        "/api/metrics?name=syncstack_messages_handled",
      );
      return body.series.find((s) => s.attributes.subscription === "s1");
    });
    assert.equal(series.kind, "sum");
    assert.equal(series.service, "collector-test");
    assert.equal(series.points.at(-1)?.value, 3);
    assert.ok(series.points.length <= 2, "history is bounded");
  });

  test("forgets the oldest traces beyond its bound", () => {
    const span = (traceId: string): CollectedSpan => ({
      traceId,
      spanId: "00000000000000a1",
      parentSpanId: undefined,
      name: "s",
      kind: "internal",
      service: "x",
      startTime: new Date().toISOString(),
      endTime: new Date().toISOString(),
      startTimeUnixNano: "0",
      durationMs: 0,
      status: "unset",
      attributes: {},
      events: [],
    });
    const small = new TelemetryStore({ maxTraces: 2 });
    small.addSpans(["a", "b", "c"].map((c) => span(c.repeat(32))));
    assert.equal(small.trace("a".repeat(32)), undefined);
    assert.deepEqual(
      small.recentTraces().map((t) => t.traceId),
      ["c".repeat(32), "b".repeat(32)],
    );
  });

  test("refuses what it cannot read, naming the problem", async () => {
    const post = (path: string, type: string, body: string) =>
      fetch(`${server.url}${path}`, { method: "POST", headers: { "content-type": type }, body });
    const protobuf = await post("/v1/traces", "application/x-protobuf", "\u0000");
    assert.equal(protobuf.status, 415);
    const missing = await post("/v1/traces", "application/json", "{}");
    assert.equal(missing.status, 400);
    assert.match(
      ((await missing.json()) as { error: { message: string } }).error.message,
      /resourceSpans/,
    );
    const unknown = await get<{ error: { message: string } }>("/api/traces?colour=red");
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.error.message, /unknown query parameter: colour/);
    const badId = await get<{ error: { message: string } }>("/api/traces/xyz");
    assert.equal(badId.status, 400);
    const gone = await get<{ error: { code: string } }>(`/api/traces/${"f".repeat(32)}`);
    assert.equal(gone.status, 404);
  });
});
