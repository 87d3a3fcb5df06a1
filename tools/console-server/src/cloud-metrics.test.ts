import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CloudQuery,
  cloudQueries,
  metricsFromPromQL,
  type PromAnswer,
} from "./cloud-metrics.ts";

// Shaped as Prometheus' instant query answers (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries),
// which Cloud Monitoring's query API returns as they are
// (https://cloud.google.com/stackdriver/docs/managed-prometheus/query-api-ui).
const at = 1_796_378_400.5;
const vector = (samples: [Record<string, string>, string][], time = at): PromAnswer => ({
  status: "success",
  data: {
    resultType: "vector",
    result: samples.map(([metric, value]) => ({ metric, value: [time, value] })),
  },
});
const none = vector([]);

const answers: Record<CloudQuery, PromAnswer> = {
  handledPerMin: vector([
    [{ subscription: "realtime-updates-analytics" }, "11.6"],
    [{ subscription: "user-created-sync" }, "0"],
  ]),
  failedPerMin: vector([[{ subscription: "realtime-updates-analytics" }, "0.4"]]),
  deadLetteredPerMin: none,
  handledTotal: vector([
    [{ subscription: "realtime-updates-analytics" }, "1204"],
    [{ subscription: "user-created-sync" }, "3"],
  ]),
  failedTotal: vector([[{ subscription: "realtime-updates-analytics" }, "7"]]),
  deadLetteredTotal: vector([[{ subscription: "realtime-updates-analytics" }, "1"]], at - 60),
  requestsPerMin: vector([
    [{ job: "sync" }, "42.2"],
    [{ job: "files" }, "NaN"],
  ]),
  outboxBacklog: vector([[{}, "5"]], at + 1),
};

test("PromQL answers become the topology's rates, totals, requests and backlog", () => {
  assert.deepEqual(metricsFromPromQL(answers, "cloud-monitoring:demo-project"), {
    source: "cloud-monitoring:demo-project",
    error: null,
    subscriptions: {
      "realtime-updates-analytics": {
        handled_per_min: 12,
        failed_per_min: 0,
        dead_lettered_per_min: 0,
        handled_total: 1204,
        failed_total: 7,
        dead_lettered_total: 1,
      },
      "user-created-sync": {
        handled_per_min: 0,
        failed_per_min: 0,
        dead_lettered_per_min: 0,
        handled_total: 3,
        failed_total: 0,
        dead_lettered_total: 0,
      },
    },
    // A NaN (no increase to divide) is no figure, shown as `–`.
    requests_per_min: { sync: 42 },
    outbox_backlog: 5,
    as_of: new Date((at + 1) * 1_000).toISOString(),
  });
});

test("no series at all is no figure, not a zero", () => {
  const empty = Object.fromEntries(Object.keys(cloudQueries).map((name) => [name, none])) as Record<
    CloudQuery,
    PromAnswer
  >;
  assert.deepEqual(metricsFromPromQL(empty, "cloud-monitoring:p"), {
    source: "cloud-monitoring:p",
    error: null,
    subscriptions: {},
    requests_per_min: {},
    outbox_backlog: null,
    as_of: null,
  });
});

test("the queries use the metric names the alert policies use, health checks left out", () => {
  assert.match(cloudQueries.deadLetteredPerMin, /rate\(syncstack_messages_dead_lettered\[5m\]\)/);
  assert.match(
    cloudQueries.requestsPerMin,
    /syncstack_http_server_duration_seconds_count\{route!~"\/healthz\|\/readyz"\}/,
  );
  assert.equal(cloudQueries.outboxBacklog, 'max(syncstack_outbox_backlog{job="sync"})');
});
