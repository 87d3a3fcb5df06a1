/** One span as the collector keeps it, flattened from an OTLP export. */
export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  /** OTLP's span kind: `internal`, `server`, `client`, `producer`, `consumer`. */
  kind: string;
  service: string;
  startTime: string;
  endTime: string;
  /** The start in nanoseconds since the epoch (a decimal string): the order of spans. */
  startTimeUnixNano: string;
  durationMs: number;
  status: "unset" | "ok" | "error";
  statusMessage?: string;
  attributes: Record<string, AttributeValue>;
  events: { name: string; time: string; attributes: Record<string, AttributeValue> }[];
}

export type AttributeValue = string | number | boolean | AttributeValue[] | null;

/** One metric point as the collector keeps it. */
export interface CollectedPoint {
  name: string;
  description: string;
  unit: string;
  /** `sum` (a counter: cumulative), `gauge` or `histogram`. */
  kind: "sum" | "gauge" | "histogram";
  service: string;
  attributes: Record<string, AttributeValue>;
  time: string;
  /** A sum's or gauge's value; a histogram's count of measurements. */
  value: number;
  histogram?: { count: number; sum: number; bounds: number[]; counts: number[] };
}

/** Thrown for an export the collector cannot read; its message names the problem. */
export class OtlpFormatError extends Error {
  override name = "OtlpFormatError";
}

type Json = Record<string, unknown>;

const spanKinds = ["unspecified", "internal", "server", "client", "producer", "consumer"];

function list(value: unknown, what: string): Json[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OtlpFormatError(`${what} must be an array`);
  return value as Json[];
}

function anyValue(value: unknown): AttributeValue {
  const v = (value ?? {}) as Json;
  if ("stringValue" in v) return String(v.stringValue);
  if ("boolValue" in v) return Boolean(v.boolValue);
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v)
    return list((v.arrayValue as Json)?.values, "arrayValue.values").map(anyValue);
  return null;
}

function attributes(value: unknown): Record<string, AttributeValue> {
  return Object.fromEntries(
    list(value, "attributes").map((entry) => [String(entry.key), anyValue(entry.value)]),
  );
}

/** OTLP/JSON time: nanoseconds since the epoch, as a string (or a number). */
function nanos(value: unknown): bigint {
  if (typeof value === "string" && /^\d+$/.test(value)) return BigInt(value);
  if (typeof value === "number" && Number.isFinite(value)) return BigInt(Math.trunc(value));
  return 0n;
}

const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

/** OTLP/JSON ids are hex; a base64 one (protobuf's JSON mapping) is turned into hex. */
function id(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  if (/^[0-9a-f]+$/i.test(value) && (value.length === 32 || value.length === 16))
    return value.toLowerCase();
  return Buffer.from(value, "base64").toString("hex");
}

function serviceOf(resource: unknown): string {
  const name = attributes((resource as Json | undefined)?.attributes)["service.name"];
  return typeof name === "string" ? name : "unknown";
}

/** The spans of an OTLP/HTTP JSON `ExportTraceServiceRequest`. */
export function spansOf(body: unknown): CollectedSpan[] {
  if (typeof body !== "object" || body === null || !("resourceSpans" in body))
    throw new OtlpFormatError("an OTLP trace export needs resourceSpans");
  const spans: CollectedSpan[] = [];
  for (const resourceSpans of list((body as Json).resourceSpans, "resourceSpans")) {
    const service = serviceOf(resourceSpans.resource);
    for (const scope of list(resourceSpans.scopeSpans, "scopeSpans")) {
      for (const span of list(scope.spans, "spans")) {
        const traceId = id(span.traceId);
        const spanId = id(span.spanId);
        if (!traceId || !spanId) throw new OtlpFormatError("a span needs traceId and spanId");
        const start = nanos(span.startTimeUnixNano);
        const end = nanos(span.endTimeUnixNano);
        const status = (span.status ?? {}) as Json;
        const code = Number(status.code ?? 0);
        spans.push({
          traceId,
          spanId,
          parentSpanId: id(span.parentSpanId),
          name: String(span.name ?? ""),
          kind: spanKinds[Number(span.kind ?? 0)] ?? "unspecified",
          service,
          startTime: iso(start),
          endTime: iso(end),
          startTimeUnixNano: start.toString(),
          durationMs: Number(end - start) / 1e6,
          status: code === 2 ? "error" : code === 1 ? "ok" : "unset",
          ...(typeof status.message === "string" && status.message
            ? { statusMessage: status.message }
            : {}),
          attributes: attributes(span.attributes),
          events: list(span.events, "events").map((event) => ({
            name: String(event.name ?? ""),
            time: iso(nanos(event.timeUnixNano)),
            attributes: attributes(event.attributes),
          })),
        });
      }
    }
  }
  return spans;
}

/** The points of an OTLP/HTTP JSON `ExportMetricsServiceRequest`. */
export function pointsOf(body: unknown): CollectedPoint[] {
  if (typeof body !== "object" || body === null || !("resourceMetrics" in body))
    throw new OtlpFormatError("an OTLP metrics export needs resourceMetrics");
  const points: CollectedPoint[] = [];
  for (const resourceMetrics of list((body as Json).resourceMetrics, "resourceMetrics")) {
    const service = serviceOf(resourceMetrics.resource);
    for (const scope of list(resourceMetrics.scopeMetrics, "scopeMetrics")) {
      for (const metric of list(scope.metrics, "metrics")) {
        const base = {
          name: String(metric.name ?? ""),
          description: String(metric.description ?? ""),
          unit: String(metric.unit ?? ""),
          service,
        };
        for (const kind of ["sum", "gauge"] as const) {
          const data = metric[kind] as Json | undefined;
          for (const point of list(data?.dataPoints, `${kind}.dataPoints`)) {
            points.push({
              ...base,
              kind,
              attributes: attributes(point.attributes),
              time: iso(nanos(point.timeUnixNano)),
              value: Number(point.asDouble ?? point.asInt ?? 0),
            });
          }
        }
        const histogram = metric.histogram as Json | undefined;
        for (const point of list(histogram?.dataPoints, "histogram.dataPoints")) {
          const count = Number(point.count ?? 0);
          points.push({
            ...base,
            kind: "histogram",
            attributes: attributes(point.attributes),
            time: iso(nanos(point.timeUnixNano)),
            value: count,
            histogram: {
              count,
              sum: Number(point.sum ?? 0),
              bounds: ((point.explicitBounds as unknown[]) ?? []).map(Number),
              counts: ((point.bucketCounts as unknown[]) ?? []).map(Number),
            },
          });
        }
      }
    }
  }
  return points;
}
