import { describeError, metricNames } from "@syncstack/shared";
import type { SubscriptionRates, TopologyMetrics } from "./views.ts";

export type { SubscriptionRates, TopologyMetrics };

const healthRoutes = new Set(["/healthz", "/readyz"]);

/** The window rates are taken over. */
export const rateWindowMs = 60_000;

/** One metric series as the collector's `/api/metrics` answers it. */
export interface CollectorSeries {
  name: string;
  service: string;
  attributes: Record<string, unknown>;
  points: { time: string; value: number }[];
}

/**
 * A counter series' increase over the window ending at its latest point. A series whose
 * first kept point is inside the window is new (its process started counting then: an OTel
 * counter is exported once it has counted something), so it counts from zero.
 */
export function increaseOver(points: readonly { time: string; value: number }[], windowMs: number) {
  const last = points.at(-1);
  if (!last) return 0;
  const end = Date.parse(last.time);
  const base = points.find((point) => Date.parse(point.time) >= end - windowMs);
  if (!base) return 0;
  // A restarted process starts its counters over: count what the new one counted.
  if (base === points[0] || last.value < base.value) return last.value;
  return last.value - base.value;
}

/** Sums series' increases (per minute) and totals by a key of each series. */
function perMinute(series: CollectorSeries[], key: (s: CollectorSeries) => string | undefined) {
  const rates: Record<string, number> = {};
  const totals: Record<string, number> = {};
  for (const s of series) {
    const name = key(s);
    if (!name) continue;
    rates[name] =
      (rates[name] ?? 0) + (increaseOver(s.points, rateWindowMs) * 60_000) / rateWindowMs;
    totals[name] = (totals[name] ?? 0) + (s.points.at(-1)?.value ?? 0);
  }
  return { rates, totals };
}

/** The topology's rates, failures and backlog from the telemetry collector's series. */
export async function readTopologyMetrics(
  telemetryUrl: string | undefined,
  get: typeof fetch = fetch,
): Promise<TopologyMetrics> {
  const empty: TopologyMetrics = {
    source: telemetryUrl ?? null,
    error: null,
    subscriptions: {},
    requests_per_min: {},
    outbox_backlog: null,
    as_of: null,
  };
  if (telemetryUrl === undefined) return empty;
  const names = [
    metricNames.messagesHandled,
    metricNames.messagesFailed,
    metricNames.messagesDeadLettered,
    metricNames.httpDuration,
    metricNames.outboxBacklog,
  ];
  let all: CollectorSeries[][];
  try {
    all = await Promise.all(
      names.map(async (name) => {
        const answer = await get(`${telemetryUrl}/api/metrics?name=${name}`, {
          signal: AbortSignal.timeout(2_000),
        });
        if (!answer.ok) throw new Error(`the collector answered ${answer.status} for ${name}`);
        return ((await answer.json()) as { series: CollectorSeries[] }).series;
      }),
    );
  } catch (error) {
    return { ...empty, error: describeError(error) };
  }
  const [handled, failed, dead, http, backlog] = all as [
    CollectorSeries[],
    CollectorSeries[],
    CollectorSeries[],
    CollectorSeries[],
    CollectorSeries[],
  ];
  const bySubscription = (s: CollectorSeries) =>
    typeof s.attributes.subscription === "string" ? s.attributes.subscription : undefined;
  const h = perMinute(handled, bySubscription);
  const f = perMinute(failed, bySubscription);
  const d = perMinute(dead, bySubscription);
  const subscriptions: Record<string, SubscriptionRates> = {};
  for (const name of new Set([
    ...Object.keys(h.totals),
    ...Object.keys(f.totals),
    ...Object.keys(d.totals),
  ])) {
    subscriptions[name] = {
      handled_per_min: Math.round(h.rates[name] ?? 0),
      failed_per_min: Math.round(f.rates[name] ?? 0),
      dead_lettered_per_min: Math.round(d.rates[name] ?? 0),
      handled_total: h.totals[name] ?? 0,
      failed_total: f.totals[name] ?? 0,
      dead_lettered_total: d.totals[name] ?? 0,
    };
  }
  // Health checks are the console's own polls and the platform's probes, not traffic.
  const requests = perMinute(
    http.filter((s) => !healthRoutes.has(String(s.attributes.route))),
    (s) => s.service,
  );
  const latestBacklog = backlog
    .filter((s) => s.service === "sync")
    .map((s) => s.points.at(-1))
    .filter((point) => point !== undefined)
    .sort((a, b) => Date.parse(a.time) - Date.parse(b.time))
    .at(-1);
  const times = all
    .flat()
    .map((s) => s.points.at(-1)?.time)
    .filter((time): time is string => time !== undefined)
    .sort();
  return {
    ...empty,
    subscriptions,
    requests_per_min: Object.fromEntries(
      Object.entries(requests.rates).map(([service, rate]) => [service, Math.round(rate)]),
    ),
    outbox_backlog: latestBacklog ? latestBacklog.value : null,
    as_of: times.at(-1) ?? null,
  };
}
