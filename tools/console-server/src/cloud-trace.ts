// Traces from Cloud Trace's v1 REST API, in the shapes the collector's read API answers, so
// the console app reads both alike. The API's resources:
// https://cloud.google.com/trace/docs/reference/v1/rest/v1/projects.traces (Trace, TraceSpan)
// https://cloud.google.com/trace/docs/reference/v1/rest/v1/projects.traces/list
import { AppError } from "@syncstack/shared";
import type { TraceSummary } from "./views.ts";

export type { TraceSummary };

/** A TraceSpan as `projects.traces` answers it (every field but spanId may be missing). */
export interface CloudTraceSpan {
  /** A uint64 as a decimal string. */
  spanId: string;
  /** `SPAN_KIND_UNSPECIFIED`, `RPC_SERVER` or `RPC_CLIENT`. */
  kind?: string;
  name?: string;
  /** RFC 3339, up to nanoseconds. */
  startTime?: string;
  endTime?: string;
  parentSpanId?: string;
  labels?: Record<string, string>;
}

/** A Trace as `projects.traces.get` answers it (and each of `list`'s traces). */
export interface CloudTrace {
  projectId?: string;
  traceId: string;
  spans?: CloudTraceSpan[];
}

/** `projects.traces.list`'s answer. */
export interface CloudTraceList {
  traces?: CloudTrace[];
  nextPageToken?: string;
}

/** A span as the collector's `/api/traces/{id}` answers it. */
export interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  name: string;
  kind: string;
  service: string;
  startTime: string;
  endTime: string;
  startTimeUnixNano: string;
  durationMs: number;
  status: "unset" | "ok" | "error";
  statusMessage?: string;
  attributes: Record<string, string>;
  events: never[];
}

/**
 * The labels that may carry the span's service, first found wins: `service.name` (the OTLP
 * resource attribute the Telemetry API keeps under its own key), then the names older
 * Cloud Trace exporters gave the resource's job and App Engine's module.
 */
export const serviceLabels = ["service.name", "g.co/r/generic_task/job", "g.co/gae/app/module"];

const kinds: Record<string, string> = { RPC_SERVER: "server", RPC_CLIENT: "client" };

/** An RFC 3339 time (nanoseconds at most) as nanoseconds since the epoch. */
export function nanosOf(time: string | undefined): bigint {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(time ?? "");
  const ms = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(ms)) {
    throw new AppError(
      "unavailable",
      `Cloud Trace answered a span time that is not RFC 3339: ${time}`,
    );
  }
  return BigInt(ms) * 1_000_000n + BigInt((match[2] ?? "").padEnd(9, "0"));
}

/** A v1 span id (a decimal uint64) as W3C's 16 hexadecimal digits; undefined for none or 0. */
export function hexSpanId(id: string | undefined): string | undefined {
  if (id === undefined || !/^\d+$/.test(id) || BigInt(id) === 0n) return undefined;
  return BigInt(id).toString(16).padStart(16, "0");
}

function statusOf(labels: Record<string, string>): Pick<SpanView, "status" | "statusMessage"> {
  const message = labels["/error/message"] ?? labels["otel.status_description"];
  const code = labels["otel.status_code"]?.toUpperCase();
  const failed = code === "ERROR" || labels["/error/name"] !== undefined || message !== undefined;
  return {
    status: failed ? "error" : code === "OK" ? "ok" : "unset",
    ...(failed && message ? { statusMessage: message } : {}),
  };
}

/** One Cloud Trace span in the collector's shape. */
export function spanView(traceId: string, span: CloudTraceSpan): SpanView {
  const labels = span.labels ?? {};
  const start = nanosOf(span.startTime);
  const end = nanosOf(span.endTime ?? span.startTime);
  const spanId = hexSpanId(span.spanId);
  if (spanId === undefined) {
    throw new AppError(
      "unavailable",
      `Cloud Trace answered a span id that is not a uint64: ${span.spanId}`,
    );
  }
  const service = serviceLabels.map((key) => labels[key]).find((value) => value) ?? "unknown";
  return {
    traceId,
    spanId,
    parentSpanId: hexSpanId(span.parentSpanId),
    name: span.name ?? "",
    kind: kinds[span.kind ?? ""] ?? "unspecified",
    service,
    startTime: new Date(Number(start / 1_000_000n)).toISOString(),
    endTime: new Date(Number(end / 1_000_000n)).toISOString(),
    startTimeUnixNano: start.toString(),
    durationMs: Number(end - start) / 1e6,
    ...statusOf(labels),
    attributes: labels,
    events: [],
  };
}

/** A whole trace as the collector's `/api/traces/{id}` answers it: spans in start order. */
export function traceView(trace: CloudTrace) {
  const traceId = trace.traceId.toLowerCase();
  const spans = (trace.spans ?? [])
    .map((span) => spanView(traceId, span))
    .sort((a, b) => {
      const byStart = BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano);
      if (byStart !== 0n) return byStart < 0n ? -1 : 1;
      return a.spanId === b.parentSpanId ? -1 : b.spanId === a.parentSpanId ? 1 : 0;
    });
  return { traceId, spans, droppedSpans: 0 };
}

/** A trace's line in the collector's `/api/traces` list. */
export function traceSummary(trace: CloudTrace): TraceSummary {
  const { traceId, spans } = traceView(trace);
  const ids = new Set(spans.map((span) => span.spanId));
  const root =
    spans.find((span) => !span.parentSpanId) ??
    spans.find((span) => !ids.has(span.parentSpanId ?? "")) ??
    spans[0];
  const start = Math.min(...spans.map((span) => Date.parse(span.startTime)));
  const end = Math.max(...spans.map((span) => Date.parse(span.endTime)));
  return {
    traceId,
    root: root ? `${root.service}: ${root.name}` : "",
    services: [...new Set(spans.map((span) => span.service))].sort(),
    spans: spans.length,
    errors: spans.filter((span) => span.status === "error").length,
    startTime: spans.length ? new Date(start).toISOString() : "",
    durationMs: spans.length ? end - start : 0,
  };
}

/** Reads Cloud Trace as the console's account (`roles/cloudtrace.user`). */
export interface CloudTraceOptions {
  /** `https://cloudtrace.googleapis.com`, or a test's server. */
  baseUrl: string;
  projectId: string;
  /** The account's `Authorization` header (google-auth-library). */
  headers: () => Promise<Record<string, string>>;
  fetch?: typeof fetch;
}

/** Traces most traces lists ask for when filtering by service, which Cloud Trace cannot. */
const serviceScanTraces = 200;

/** The console's trace source on Google Cloud. */
export class CloudTraceSource {
  readonly #options: CloudTraceOptions;

  constructor(options: CloudTraceOptions) {
    this.#options = options;
  }

  /** The most recent traces (those with a span of `service`, when given), most recent first. */
  async recent(query: { limit: number; service?: string | undefined }) {
    const search = new URLSearchParams({
      view: "COMPLETE",
      orderBy: "start desc",
      pageSize: String(query.service ? serviceScanTraces : query.limit),
    });
    const answer = (await this.#get(`traces?${search}`)) as CloudTraceList | undefined;
    const summaries = (answer?.traces ?? []).map(traceSummary);
    return {
      traces: summaries
        .filter((trace) => !query.service || trace.services.includes(query.service))
        .slice(0, query.limit),
    };
  }

  /** One trace, or undefined when Cloud Trace has none of that id. */
  async trace(traceId: string) {
    const answer = (await this.#get(`traces/${traceId}`)) as CloudTrace | undefined;
    return answer ? traceView(answer) : undefined;
  }

  async #get(path: string): Promise<unknown> {
    const { baseUrl, projectId } = this.#options;
    const url = `${baseUrl.replace(/\/$/, "")}/v1/projects/${encodeURIComponent(projectId)}/${path}`;
    let answer: Response;
    try {
      answer = await (this.#options.fetch ?? fetch)(url, {
        headers: await this.#options.headers(),
        signal: AbortSignal.timeout(10_000),
      });
    } catch (error) {
      throw new AppError("unavailable", "Cloud Trace cannot be reached", { cause: error });
    }
    if (answer.status === 404) return undefined;
    const body = (await answer.json().catch(() => undefined)) as
      | { error?: { message?: string } }
      | undefined;
    if (!answer.ok) {
      throw new AppError(
        "unavailable",
        `Cloud Trace answered ${answer.status}: ${body?.error?.message ?? "no message"}`,
      );
    }
    return body;
  }
}
