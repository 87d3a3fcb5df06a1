import { metricNames } from "@syncstack/shared";
import type { Block, TerraformJson } from "./terraform.ts";

/**
 * The services' metrics reach Cloud Monitoring through the Telemetry API's OTLP endpoint,
 * which keeps their names and writes them as Managed Service for Prometheus metrics: PromQL
 * names them as the services export them (`syncstack_outbox_backlog`, a histogram's
 * `_bucket`, `_count` and `_sum`).
 */
const m = metricNames;

/** An alert: when its PromQL query returns a series for `duration`. */
interface AlertSpec {
  id: string;
  name: string;
  query: string;
  duration: string;
  documentation: string;
}

/** The alerts docs/observability.md describes, with what to look at when each fires. */
export const alertSpecs: readonly AlertSpec[] = [
  {
    id: "dead_letter",
    name: "syncstack: a message was dead-lettered",
    query: `sum by (subscription) (increase(${m.messagesDeadLettered}[10m])) > 0`,
    duration: "0s",
    documentation:
      "A subscription's handler gave up on a message: it waits in `<topic>-dead-letter-sub` with its `dead_letter_reason`. Read it with `./syncstack dead-letters list --project <id>` (docs/reliability.md), fix the cause, replay.",
  },
  {
    id: "outbox_oldest_age",
    name: "syncstack: an outbox entry is older than a minute",
    query: `max(${m.outboxOldestAge}) > 60`,
    duration: "60s",
    documentation:
      "Changes committed by the sync service are not reaching `realtime-updates`: Pub/Sub may be failing, or the outbox sweeper is not running. The sync service's logs say which (`publishing an event failed`, `sweeper could not publish`).",
  },
  {
    id: "push_failure_rate",
    name: "syncstack: more than 5% of a subscription's deliveries fail",
    query: `sum by (subscription) (rate(${m.messagesFailed}[5m])) / (sum by (subscription) (rate(${m.messagesHandled}[5m])) + sum by (subscription) (rate(${m.messagesFailed}[5m]))) > 0.05`,
    duration: "300s",
    documentation:
      "A subscription's handler fails on more than one delivery in twenty (retried, then dead-lettered). Its service's logs carry `message failed, will be retried` with the error, the trace, and the document.",
  },
  {
    id: "event_lag",
    name: "syncstack: events wait more than a minute before handling (p99)",
    query: `histogram_quantile(0.99, sum by (le, subscription) (rate(${m.eventLag}_bucket[5m]))) > 60`,
    duration: "300s",
    documentation:
      "From an event's commit to its handler's start takes more than a minute for 1% of events: the outbox is behind, or the subscription's backlog is growing (Pub/Sub's `subscription/oldest_unacked_message_age`).",
  },
];

/** A dashboard chart of PromQL queries, one line per series. */
function chart(title: string, queries: readonly string[]): Block {
  return {
    width: 24,
    height: 16,
    widget: {
      title,
      xyChart: {
        dataSets: queries.map((query) => ({
          plotType: "LINE",
          targetAxis: "Y1",
          timeSeriesQuery: { prometheusQuery: query },
        })),
      },
    },
  };
}

/** The dashboard: requests, messages, event lag, the outbox and live streams. */
export function dashboard(): Block {
  const charts = [
    chart("Requests per second by service, route and status", [
      `sum by (job, route, status) (rate(${m.httpDuration}_count[5m]))`,
    ]),
    chart("Request latency p95 (s) by route", [
      `histogram_quantile(0.95, sum by (le, route) (rate(${m.httpDuration}_bucket[5m])))`,
    ]),
    chart("Messages per second by subscription: handled, failed, dead-lettered", [
      `sum by (subscription) (rate(${m.messagesHandled}[5m]))`,
      `sum by (subscription) (rate(${m.messagesFailed}[5m]))`,
      `sum by (subscription) (rate(${m.messagesDeadLettered}[5m]))`,
    ]),
    chart("Handler latency p95 (s) by subscription", [
      `histogram_quantile(0.95, sum by (le, subscription) (rate(${m.handlerDuration}_bucket[5m])))`,
    ]),
    chart("Event lag, commit to handler, p50 and p99 (s)", [
      `histogram_quantile(0.5, sum by (le, subscription) (rate(${m.eventLag}_bucket[5m])))`,
      `histogram_quantile(0.99, sum by (le, subscription) (rate(${m.eventLag}_bucket[5m])))`,
    ]),
    chart("Outbox: backlog (entries) and oldest entry's age (s)", [
      `max(${m.outboxBacklog})`,
      `max(${m.outboxOldestAge})`,
    ]),
    chart("Open live change streams", [`sum(${m.liveStreams})`]),
  ];
  return {
    displayName: "syncstack",
    mosaicLayout: {
      columns: 48,
      tiles: charts.map((tile, index) => ({
        ...tile,
        xPos: (index % 2) * 24,
        yPos: Math.floor(index / 2) * 16,
      })),
    },
  };
}

/** Alert policies on the services' metrics, and their dashboard (docs/observability.md). */
export function renderMonitoring(): TerraformJson {
  return {
    variable: {
      metrics_exporter: {
        type: "string",
        default: "gcp",
        description: "OTEL_METRICS_EXPORTER of the services (none turns metrics off)",
      },
      alert_notification_channels: {
        type: "list(string)",
        default: [],
        description: "Notification channel ids the alert policies notify",
      },
    },
    resource: {
      google_monitoring_alert_policy: Object.fromEntries(
        alertSpecs.map((alert) => [
          alert.id,
          {
            display_name: alert.name,
            combiner: "OR",
            severity: "WARNING",
            notification_channels: "${var.alert_notification_channels}",
            documentation: { content: alert.documentation, mime_type: "text/markdown" },
            conditions: [
              {
                display_name: alert.name,
                condition_prometheus_query_language: {
                  query: alert.query,
                  duration: alert.duration,
                  evaluation_interval: "60s",
                },
              },
            ],
            depends_on: ["google_project_service.monitoring"],
          },
        ]),
      ),
      google_monitoring_dashboard: {
        syncstack: {
          dashboard_json: JSON.stringify(dashboard()),
          depends_on: ["google_project_service.monitoring"],
        },
      },
    },
  };
}
