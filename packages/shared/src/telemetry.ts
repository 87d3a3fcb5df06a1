import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type SpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { GoogleAuth } from "google-auth-library";

export type TraceExporterKind = "none" | "console" | "otlp" | "gcp" | "memory";

export interface TelemetryOptions {
  serviceName: string;
  exporter: TraceExporterKind;
  otlpEndpoint?: string | undefined;
  /** The project traces go to with the `gcp` exporter. */
  projectId?: string;
}

/** Cloud Trace's OTLP endpoint (the Telemetry API). */
export const cloudTraceOtlpEndpoint = "https://telemetry.googleapis.com";

/**
 * OTLP/HTTP to Cloud Trace, authenticated as the service's account (Application Default
 * Credentials: the Cloud Run service account, which needs roles/telemetry.tracesWriter).
 */
function cloudTraceExporter(projectId: string | undefined): OTLPTraceExporter {
  const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/trace.append"] });
  return new OTLPTraceExporter({
    url: `${cloudTraceOtlpEndpoint}/v1/traces`,
    headers: async () => ({
      ...Object.fromEntries((await auth.getRequestHeaders()).entries()),
      ...(projectId ? { "x-goog-user-project": projectId } : {}),
    }),
  });
}

/** The process's tracing: `memory` is set only when spans are kept for tests to read. */
export interface Telemetry {
  memory: InMemorySpanExporter | undefined;
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
  if (options.exporter === "gcp") {
    spanProcessors.push(
      new BatchSpanProcessor({ exporter: cloudTraceExporter(options.projectId) }),
    );
  }
  if (options.exporter === "otlp") {
    const url = options.otlpEndpoint
      ? `${options.otlpEndpoint.replace(/\/$/, "")}/v1/traces`
      : undefined;
    spanProcessors.push(
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter(url ? { url } : {}) }),
    );
  }
  // The Firestore client makes spans of its own for every call unless told not to.
  if (options.exporter === "none") process.env.FIRESTORE_ENABLE_TRACING ??= "OFF";
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      "service.name": options.serviceName,
      ...(options.projectId ? { "gcp.project_id": options.projectId } : {}),
    }),
    spanProcessors,
    ...(options.exporter === "none" ? { sampler: new AlwaysOffSampler() } : {}),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  installed = { memory, shutdown: () => provider.shutdown() };
  return installed;
}

/** The tracer syncstack code starts its spans with. */
export function tracer() {
  return trace.getTracer("syncstack");
}
