import type { AttributeValue, CollectedPoint, CollectedSpan } from "./otlp-json.ts";

export interface TelemetryStoreOptions {
  /** Traces kept; the oldest (by first span received) goes first. */
  maxTraces?: number;
  /** Spans kept per trace; later ones are counted as dropped. */
  maxSpansPerTrace?: number;
  /** Points kept per metric series (its history); the latest is always the last. */
  maxPointsPerSeries?: number;
  /** Metric series kept; a new one beyond it evicts the least recently updated. */
  maxSeries?: number;
}

/** A trace in the list of recent ones. */
export interface TraceSummary {
  traceId: string;
  /** The span with no parent in the trace (the first received when none is). */
  root: string;
  services: string[];
  spans: number;
  errors: number;
  startTime: string;
  durationMs: number;
}

/** One metric series: a metric of one service with one set of labels, and its recent points. */
export interface MetricSeries {
  name: string;
  description: string;
  unit: string;
  kind: CollectedPoint["kind"];
  service: string;
  attributes: Record<string, AttributeValue>;
  points: Omit<
    CollectedPoint,
    "name" | "description" | "unit" | "kind" | "service" | "attributes"
  >[];
}

interface StoredTrace {
  spans: CollectedSpan[];
  dropped: number;
}

/**
 * The local collector's memory: the last traces with all their spans across services, and
 * each metric series' latest points. Bounded, so a long-running stack holds a fixed amount.
 */
export class TelemetryStore {
  readonly #traces = new Map<string, StoredTrace>();
  readonly #series = new Map<string, MetricSeries>();
  readonly #options: Required<TelemetryStoreOptions>;

  constructor(options: TelemetryStoreOptions = {}) {
    this.#options = {
      maxTraces: options.maxTraces ?? 1_000,
      maxSpansPerTrace: options.maxSpansPerTrace ?? 1_000,
      maxPointsPerSeries: options.maxPointsPerSeries ?? 120,
      maxSeries: options.maxSeries ?? 2_000,
    };
  }

  addSpans(spans: readonly CollectedSpan[]): void {
    for (const span of spans) {
      let trace = this.#traces.get(span.traceId);
      if (!trace) {
        trace = { spans: [], dropped: 0 };
        this.#traces.set(span.traceId, trace);
        while (this.#traces.size > this.#options.maxTraces) {
          const oldest = this.#traces.keys().next().value;
          if (oldest === undefined) break;
          this.#traces.delete(oldest);
        }
      }
      if (trace.spans.length < this.#options.maxSpansPerTrace) trace.spans.push(span);
      else trace.dropped++;
    }
  }

  addPoints(points: readonly CollectedPoint[]): void {
    for (const point of points) {
      const key = seriesKey(point);
      let series = this.#series.get(key);
      if (series) {
        // Most recently updated last, so eviction takes the stalest series.
        this.#series.delete(key);
      } else {
        series = {
          name: point.name,
          description: point.description,
          unit: point.unit,
          kind: point.kind,
          service: point.service,
          attributes: point.attributes,
          points: [],
        };
      }
      this.#series.set(key, series);
      series.points.push({
        time: point.time,
        value: point.value,
        ...(point.histogram ? { histogram: point.histogram } : {}),
      });
      if (series.points.length > this.#options.maxPointsPerSeries) series.points.shift();
      while (this.#series.size > this.#options.maxSeries) {
        const stalest = this.#series.keys().next().value;
        if (stalest === undefined) break;
        this.#series.delete(stalest);
      }
    }
  }

  /** The most recent traces first, optionally only those with a span of `service`. */
  recentTraces(options: { limit?: number; service?: string } = {}): TraceSummary[] {
    const summaries: TraceSummary[] = [];
    for (const [traceId, trace] of [...this.#traces].reverse()) {
      if (summaries.length >= (options.limit ?? 50)) break;
      if (options.service && !trace.spans.some((span) => span.service === options.service))
        continue;
      summaries.push(summarize(traceId, trace.spans));
    }
    return summaries;
  }

  /** One trace's spans, in start order, or undefined when it is not (or no longer) kept. */
  trace(
    traceId: string,
  ): { traceId: string; spans: CollectedSpan[]; droppedSpans: number } | undefined {
    const trace = this.#traces.get(traceId.toLowerCase());
    if (!trace) return undefined;
    const spans = [...trace.spans].sort((a, b) => {
      const byStart = BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano);
      if (byStart !== 0n) return byStart < 0n ? -1 : 1;
      // Started in the same nanosecond: a parent before its child.
      return a.spanId === b.parentSpanId ? -1 : b.spanId === a.parentSpanId ? 1 : 0;
    });
    return { traceId: traceId.toLowerCase(), spans, droppedSpans: trace.dropped };
  }

  /** Metric series, optionally of one metric name and one service; with their recent points. */
  series(filter: { name?: string; service?: string } = {}): MetricSeries[] {
    return [...this.#series.values()]
      .filter(
        (s) =>
          (!filter.name || s.name === filter.name) &&
          (!filter.service || s.service === filter.service),
      )
      .sort((a, b) => a.name.localeCompare(b.name) || a.service.localeCompare(b.service));
  }
}

function seriesKey(point: CollectedPoint): string {
  const labels = Object.entries(point.attributes).sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify([point.name, point.service, labels]);
}

function summarize(traceId: string, spans: CollectedSpan[]): TraceSummary {
  const ids = new Set(spans.map((span) => span.spanId));
  const root =
    spans.find((span) => !span.parentSpanId) ??
    spans.find((span) => !ids.has(span.parentSpanId ?? "")) ??
    spans[0];
  const starts = spans.map((span) => Date.parse(span.startTime));
  const ends = spans.map((span) => Date.parse(span.endTime));
  const start = Math.min(...starts);
  return {
    traceId,
    root: root ? `${root.service}: ${root.name}` : "",
    services: [...new Set(spans.map((span) => span.service))].sort(),
    spans: spans.length,
    errors: spans.filter((span) => span.status === "error").length,
    startTime: new Date(start).toISOString(),
    durationMs: Math.max(...ends) - start,
  };
}
