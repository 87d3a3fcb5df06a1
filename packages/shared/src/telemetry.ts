import {
  context,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { suppressTracing, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  type IMetricReader,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type ResourceMetrics,
} from "@opentelemetry/sdk-metrics";
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { GoogleAuth } from "google-auth-library";
import { RateLimitingSampler } from "./rate-limiting-sampler.ts";

export type TraceExporterKind = "none" | "console" | "otlp" | "gcp" | "memory";
/** `memory`: points are kept in the process, for tests to collect. */
export type MetricExporterKind = "none" | "otlp" | "gcp" | "memory";

export interface TelemetryOptions {
  serviceName: string;
  exporter: TraceExporterKind;
  /** Metrics are off unless asked for. */
  metricsExporter?: MetricExporterKind;
  otlpEndpoint?: string | undefined;
  /** The project traces and metrics go to with the `gcp` exporters. */
  projectId?: string;
  /** How long finished spans wait to be exported together (the SDK's 5 s by default). */
  spanExportDelayMs?: number;
  /** How often metrics are exported (60 s by default: Cloud Monitoring's finest useful period). */
  metricExportIntervalMs?: number;
  /**
   * New traces recorded per second at most (the rest get ids but are not recorded); 0 or
   * unset records every trace.
   */
  tracesPerSecond?: number;
}

/** Cloud Trace's and Cloud Monitoring's OTLP endpoint (the Telemetry API). */
export const cloudTraceOtlpEndpoint = "https://telemetry.googleapis.com";

/**
 * Headers of a request to the Telemetry API, as the service's account (Application Default
 * Credentials: the Cloud Run service account, which needs roles/telemetry.tracesWriter and
 * roles/telemetry.metricsWriter).
 */
function googleHeaders(projectId: string | undefined): () => Promise<Record<string, string>> {
  const auth = new GoogleAuth({
    scopes: [
      "https://www.googleapis.com/auth/trace.append",
      "https://www.googleapis.com/auth/monitoring.write",
    ],
  });
  return async () => ({
    ...Object.fromEntries((await auth.getRequestHeaders()).entries()),
    ...(projectId ? { "x-goog-user-project": projectId } : {}),
  });
}

/** OTLP/HTTP (JSON) to an endpoint's `/v1/<signal>`, or to the SDK's default. */
function otlpUrl(endpoint: string | undefined, signal: "traces" | "metrics"): string | undefined {
  return endpoint ? `${endpoint.replace(/\/$/, "")}/v1/${signal}` : undefined;
}

/** Keeps nothing: tests collect the current points when they want to read them. */
class OnDemandMetricReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

function metricReader(options: TelemetryOptions): IMetricReader | undefined {
  const exportIntervalMillis = options.metricExportIntervalMs ?? 60_000;
  switch (options.metricsExporter ?? "none") {
    case "none":
      return undefined;
    case "memory":
      return new OnDemandMetricReader();
    case "gcp":
      return new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter({
          url: `${cloudTraceOtlpEndpoint}/v1/metrics`,
          headers: googleHeaders(options.projectId),
        }),
        exportIntervalMillis,
      });
    case "otlp": {
      const url = otlpUrl(options.otlpEndpoint, "metrics");
      return new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(url ? { url } : {}),
        exportIntervalMillis,
      });
    }
  }
}

/**
 * The process's tracing and metrics: `memory` is set only when spans are kept for tests to
 * read; `collectMetrics` reads the current points of the `memory` metrics exporter.
 */
export interface Telemetry {
  memory: InMemorySpanExporter | undefined;
  collectMetrics(): Promise<ResourceMetrics | undefined>;
  shutdown(): Promise<void>;
}

let installed: Telemetry | undefined;

/**
 * Wires the OpenTelemetry SDK once per process: W3C trace context, async context and the
 * exporter chosen by configuration. With no exporter nothing is recorded (that would be work
 * thrown away on every request and every client call), but spans still get real ids, so logs
 * correlate and trace context is passed on.
 */
export function setupTelemetry(options: TelemetryOptions): Telemetry {
  if (installed) return installed;
  const memory = options.exporter === "memory" ? new InMemorySpanExporter() : undefined;
  const spanProcessors: SpanProcessor[] = [];
  if (memory) spanProcessors.push(new SimpleSpanProcessor({ exporter: memory }));
  if (options.exporter === "console")
    spanProcessors.push(new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }));
  const scheduledDelayMillis = options.spanExportDelayMs ?? 5_000;
  if (options.exporter === "gcp") {
    const exporter = new OTLPTraceExporter({
      url: `${cloudTraceOtlpEndpoint}/v1/traces`,
      headers: googleHeaders(options.projectId),
    });
    spanProcessors.push(new BatchSpanProcessor({ exporter, scheduledDelayMillis }));
  }
  if (options.exporter === "otlp") {
    const url = otlpUrl(options.otlpEndpoint, "traces");
    const exporter = new OTLPTraceExporter(url ? { url } : {});
    spanProcessors.push(new BatchSpanProcessor({ exporter, scheduledDelayMillis }));
  }
  // The Firestore client makes spans of its own for every call unless told not to.
  if (options.exporter === "none") process.env.FIRESTORE_ENABLE_TRACING ??= "OFF";
  const resource = resourceFromAttributes({
    "service.name": options.serviceName,
    ...(options.projectId ? { "gcp.project_id": options.projectId } : {}),
  });
  const provider = new TracerProvider({
    resource,
    spanProcessors,
    ...(options.exporter === "none"
      ? { sampler: new AlwaysOffSampler() }
      : options.tracesPerSecond
        ? {
            sampler: new ParentBasedSampler({
              root: new RateLimitingSampler(options.tracesPerSecond),
            }),
          }
        : {}),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  // Without a reader no meter provider is installed: instruments are the API's no-ops.
  const reader = metricReader(options);
  const meters = reader ? new MeterProvider({ resource, readers: [reader] }) : undefined;
  if (meters) metrics.setGlobalMeterProvider(meters);
  installed = {
    memory,
    collectMetrics: async () =>
      reader instanceof OnDemandMetricReader ? (await reader.collect()).resourceMetrics : undefined,
    shutdown: async () => {
      await Promise.allSettled([provider.shutdown(), meters?.shutdown()]);
    },
  };
  return installed;
}

/** Runs `work` with tracing off: background work that is no one's request (a poll, a ticker). */
export function untraced<T>(work: () => T): T {
  return context.with(suppressTracing(context.active()), work);
}

/** The tracer syncstack code starts its spans with. */
export function tracer() {
  return trace.getTracer("syncstack");
}

/** W3C trace context as kept beside stored work (outbox entries): `traceparent`, `tracestate`. */
export type TraceCarrier = Record<string, string>;

/** The active trace context, to store with work that continues it later; empty when none. */
export function currentTraceCarrier(): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** Runs `work` in the trace context a carrier holds (the one active when it was stored). */
export function withTraceCarrier<T>(carrier: TraceCarrier | undefined, work: () => T): T {
  if (!carrier?.traceparent) return work();
  return context.with(propagation.extract(ROOT_CONTEXT, carrier), work);
}

/**
 * Runs `work` in a span of its own, a child of the active one (a step of a handler worth
 * seeing in its trace: thumbnails, a backup run); a failure marks the span and is rethrown.
 */
export async function traced<T>(
  name: string,
  attributes: Record<string, string | number | boolean>,
  work: () => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await work();
    } catch (error) {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
