// The topology's rates from Cloud Monitoring, through its Prometheus-compatible query API:
// https://cloud.google.com/stackdriver/docs/managed-prometheus/query-api-ui (the endpoint)
// https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries (its answers)
import { AppError, describeError, metricNames as m } from "@syncstack/shared";
import type { SubscriptionRates, TopologyMetrics } from "./topology-metrics.ts";

/**
 * Rates are averaged over five minutes, not one: on Cloud Run the services export every 60 s,
 * so a one-minute window mostly holds a single point and `rate` has nothing to compare.
 * Health checks are left out as the collector's source leaves them out.
 */
export const cloudRateWindow = "5m";

/** The PromQL each figure is read with; the names are the alert policies' (monitoring.ts). */
export const cloudQueries = {
  handledPerMin: `sum by (subscription) (rate(${m.messagesHandled}[${cloudRateWindow}])) * 60`,
  failedPerMin: `sum by (subscription) (rate(${m.messagesFailed}[${cloudRateWindow}])) * 60`,
  deadLetteredPerMin: `sum by (subscription) (rate(${m.messagesDeadLettered}[${cloudRateWindow}])) * 60`,
  handledTotal: `sum by (subscription) (${m.messagesHandled})`,
  failedTotal: `sum by (subscription) (${m.messagesFailed})`,
  deadLetteredTotal: `sum by (subscription) (${m.messagesDeadLettered})`,
  // `job` is the service (the resource's service.name, docs/observability.md).
  requestsPerMin: `sum by (job) (rate(${m.httpDuration}_count{route!~"/healthz|/readyz"}[${cloudRateWindow}])) * 60`,
  outboxBacklog: `max(${m.outboxBacklog}{job="sync"})`,
} as const;

export type CloudQuery = keyof typeof cloudQueries;

/** An instant query's answer (`resultType: vector`): each sample's value is `[unix s, "number"]`. */
export interface PromAnswer {
  status: "success" | "error";
  data?: {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
  errorType?: string;
  error?: string;
}

/** Sample values by a label (`""` for a query summed to one sample). */
function byLabel(answer: PromAnswer, label: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const sample of answer.data?.result ?? []) {
    const key = label ? sample.metric[label] : "";
    const value = Number(sample.value[1]);
    if (key !== undefined && Number.isFinite(value)) values.set(key, value);
  }
  return values;
}

/** The topology's figures from the answers to `cloudQueries`. */
export function metricsFromPromQL(
  answers: Record<CloudQuery, PromAnswer>,
  source: string,
): TopologyMetrics {
  const sub = (query: CloudQuery) => byLabel(answers[query], "subscription");
  const [handled, failed, dead] = [
    sub("handledPerMin"),
    sub("failedPerMin"),
    sub("deadLetteredPerMin"),
  ];
  const [handledTotal, failedTotal, deadTotal] = [
    sub("handledTotal"),
    sub("failedTotal"),
    sub("deadLetteredTotal"),
  ];
  const subscriptions: Record<string, SubscriptionRates> = {};
  for (const name of new Set([
    ...handledTotal.keys(),
    ...failedTotal.keys(),
    ...deadTotal.keys(),
  ])) {
    subscriptions[name] = {
      handled_per_min: Math.round(handled.get(name) ?? 0),
      failed_per_min: Math.round(failed.get(name) ?? 0),
      dead_lettered_per_min: Math.round(dead.get(name) ?? 0),
      handled_total: handledTotal.get(name) ?? 0,
      failed_total: failedTotal.get(name) ?? 0,
      dead_lettered_total: deadTotal.get(name) ?? 0,
    };
  }
  const requests = byLabel(answers.requestsPerMin, "job");
  const backlog = byLabel(answers.outboxBacklog, "").get("");
  const times = Object.values(answers).flatMap((answer) =>
    (answer.data?.result ?? []).map((sample) => sample.value[0]),
  );
  return {
    source,
    error: null,
    subscriptions,
    requests_per_min: Object.fromEntries(
      [...requests].map(([service, rate]) => [service, Math.round(rate)]),
    ),
    outbox_backlog: backlog ?? null,
    as_of: times.length ? new Date(Math.max(...times) * 1_000).toISOString() : null,
  };
}

export interface CloudMetricsOptions {
  /** `https://monitoring.googleapis.com`, or a test's server. */
  baseUrl: string;
  projectId: string;
  /** The account's `Authorization` header (google-auth-library). */
  headers: () => Promise<Record<string, string>>;
  fetch?: typeof fetch;
  /** How long an answer is reused: the points move once a minute, the live stream asks every 2 s. */
  cacheMs?: number;
}

/** The console's metrics source on Google Cloud (`roles/monitoring.viewer`). */
export class CloudMetricsSource {
  readonly #options: CloudMetricsOptions;
  #cached: { at: number; metrics: Promise<TopologyMetrics> } | undefined;

  constructor(options: CloudMetricsOptions) {
    this.#options = options;
  }

  /** Where the figures come from, as `metrics.source` names it. */
  get source(): string {
    return `cloud-monitoring:${this.#options.projectId}`;
  }

  /** The topology's figures; an error is in `error`, as the collector's source reports one. */
  read(): Promise<TopologyMetrics> {
    const now = Date.now();
    if (!this.#cached || now - this.#cached.at >= (this.#options.cacheMs ?? 15_000)) {
      this.#cached = { at: now, metrics: this.#read() };
    }
    return this.#cached.metrics;
  }

  async #read(): Promise<TopologyMetrics> {
    try {
      const entries = await Promise.all(
        (Object.keys(cloudQueries) as CloudQuery[]).map(
          async (name) => [name, await this.#query(cloudQueries[name])] as const,
        ),
      );
      return metricsFromPromQL(
        Object.fromEntries(entries) as Record<CloudQuery, PromAnswer>,
        this.source,
      );
    } catch (error) {
      this.#cached = undefined;
      return {
        source: this.source,
        error: describeError(error),
        subscriptions: {},
        requests_per_min: {},
        outbox_backlog: null,
        as_of: null,
      };
    }
  }

  async #query(query: string): Promise<PromAnswer> {
    const { baseUrl, projectId } = this.#options;
    const url = `${baseUrl.replace(/\/$/, "")}/v1/projects/${encodeURIComponent(projectId)}/location/global/prometheus/api/v1/query`;
    const answer = await (this.#options.fetch ?? fetch)(url, {
      method: "POST",
      headers: {
        ...(await this.#options.headers()),
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ query }),
      signal: AbortSignal.timeout(5_000),
    });
    // Prometheus' errors carry a string `error`, Google's front end an object with a message.
    const body = (await answer.json().catch(() => undefined)) as
      | (Omit<PromAnswer, "error"> & { error?: string | { message?: string } })
      | undefined;
    if (!answer.ok || body?.status !== "success") {
      const error = body?.error;
      const message = typeof error === "string" ? error : (error?.message ?? "no message");
      throw new AppError(
        "unavailable",
        `Cloud Monitoring answered ${answer.status} to ${query}: ${message}`,
      );
    }
    return body as PromAnswer;
  }
}
