import assert from "node:assert/strict";
import { test } from "node:test";
import { type CloudTrace, hexSpanId, nanosOf, traceSummary, traceView } from "./cloud-trace.ts";

// Shaped as `projects.traces.get` answers (the Trace and TraceSpan resources:
// https://cloud.google.com/trace/docs/reference/v1/rest/v1/projects.traces): span ids are
// decimal uint64 strings, times RFC 3339 with nanoseconds, labels a string map.
const syncWrite: CloudTrace = {
  projectId: "demo-project",
  traceId: "4BF92F3577B34DA6A3CE929D0E0E4736",
  spans: [
    {
      spanId: "2205310701640571284",
      kind: "SPAN_KIND_UNSPECIFIED",
      name: "realtime-updates process",
      startTime: "2026-12-04T10:00:00.120000000Z",
      endTime: "2026-12-04T10:00:00.150000000Z",
      parentSpanId: "1311768467294899695",
      labels: {
        "service.name": "analytics",
        "messaging.destination.subscription.name": "realtime-updates-analytics",
        "otel.status_code": "ERROR",
        "otel.status_description": "stats write failed",
      },
    },
    {
      spanId: "1311768467294899695",
      kind: "RPC_SERVER",
      name: "POST /v1/sync",
      startTime: "2026-12-04T10:00:00.000000123Z",
      endTime: "2026-12-04T10:00:00.100000123Z",
      labels: {
        "service.name": "sync",
        "g.co/agent": "opentelemetry-js 2.2.0; google-cloud-trace-exporter 3.0.0",
        "http.route": "/v1/sync",
      },
    },
    {
      spanId: "81985529216486895",
      kind: "RPC_CLIENT",
      name: "realtime-updates publish",
      startTime: "2026-12-04T10:00:00.050000123Z",
      endTime: "2026-12-04T10:00:00.060Z",
      parentSpanId: "1311768467294899695",
      labels: { "g.co/r/generic_task/job": "sync" },
    },
  ],
};

test("a span id is W3C's 16 hexadecimal digits, a parent of 0 none", () => {
  assert.equal(hexSpanId("1311768467294899695"), "1234567890abcdef");
  assert.equal(hexSpanId("81985529216486895"), "0123456789abcdef");
  assert.equal(hexSpanId("0"), undefined);
  assert.equal(hexSpanId(undefined), undefined);
});

test("a time keeps its nanoseconds, whatever digits it has", () => {
  assert.equal(nanosOf("2026-12-04T10:00:00.000000123Z"), 1796378400000000123n);
  assert.equal(nanosOf("2026-12-04T10:00:00.06Z"), 1796378400060000000n);
  assert.equal(nanosOf("2026-12-04T11:00:00+01:00"), 1796378400000000000n);
  assert.throws(() => nanosOf("yesterday"), /not RFC 3339: yesterday/);
});

test("a Cloud Trace trace becomes the collector's trace: spans in start order, ids in hex", () => {
  const view = traceView(syncWrite);
  assert.equal(view.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
  assert.equal(view.droppedSpans, 0);
  assert.deepEqual(
    view.spans.map((span) => [span.name, span.service, span.kind, span.parentSpanId]),
    [
      ["POST /v1/sync", "sync", "server", undefined],
      ["realtime-updates publish", "sync", "client", "1234567890abcdef"],
      ["realtime-updates process", "analytics", "unspecified", "1234567890abcdef"],
    ],
  );
  const [root, publish, processed] = view.spans;
  assert.equal(root?.spanId, "1234567890abcdef");
  assert.equal(publish?.spanId, "0123456789abcdef");
  assert.equal(root?.startTime, "2026-12-04T10:00:00.000Z");
  assert.equal(root?.startTimeUnixNano, "1796378400000000123");
  assert.equal(root?.durationMs, 100);
  assert.equal(root?.status, "unset");
  assert.equal(root?.attributes["http.route"], "/v1/sync");
  assert.deepEqual(root?.events, []);
  assert.equal(publish?.durationMs, 9.999877);
  assert.equal(processed?.status, "error");
  assert.equal(processed?.statusMessage, "stats write failed");
});

test("a trace's summary names its root, services, spans, errors and duration", () => {
  assert.deepEqual(traceSummary(syncWrite), {
    traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
    root: "sync: POST /v1/sync",
    services: ["analytics", "sync"],
    spans: 3,
    errors: 1,
    startTime: "2026-12-04T10:00:00.000Z",
    durationMs: 150,
  });
});

test("a span without a service label is of service unknown; a ROOTSPAN-less trace is empty", () => {
  const view = traceView({
    traceId: "00000000000000000000000000000001",
    spans: [{ spanId: "1", name: "x", startTime: "2026-12-04T10:00:00Z" }],
  });
  assert.equal(view.spans[0]?.service, "unknown");
  assert.equal(view.spans[0]?.durationMs, 0);
  assert.deepEqual(traceSummary({ traceId: "00000000000000000000000000000002" }), {
    traceId: "00000000000000000000000000000002",
    root: "",
    services: [],
    spans: 0,
    errors: 0,
    startTime: "",
    durationMs: 0,
  });
});
