import {
  type Context,
  context,
  isSpanContextValid,
  propagation,
  type Span,
  SpanKind,
  trace,
} from "@opentelemetry/api";
import type { RequestHandler } from "express";
import type { Logger } from "../logger.ts";
import { instruments } from "../metrics.ts";
import { tracer } from "../telemetry.ts";
import { requestFacts } from "./request-facts.ts";

/** The response header carrying the request's trace id, on every answer. */
export const traceIdHeader = "x-trace-id";

const requestSpans = new WeakMap<object, (parent: Context) => Context>();

/**
 * Starts a request's server span under `parent`, unless it has one (a Pub/Sub push, whose
 * HTTP request carries no trace context, continues its message's: the span starts once the
 * envelope is read, dated from the request's arrival); returns the context to run in.
 */
export function continueRequestTrace(request: object, parent: Context): Context {
  return requestSpans.get(request)?.(parent) ?? parent;
}

/**
 * Express middleware: the request's server span (continuing the caller's `traceparent`), its
 * trace id in `x-trace-id`, its latency metric by route and status, and its log line with
 * what the request was about.
 */
export function traceRequests(
  name: string,
  logger: Logger,
  deferred: (path: string) => boolean,
): RequestHandler {
  return (request, response, next) => {
    const started = performance.now();
    const fromHeaders = propagation.extract(context.active(), request.headers);
    let span: Span | undefined;
    let active = fromHeaders;
    const start = (parent: Context) => {
      if (span) return active;
      span = tracer().startSpan(
        `${request.method} ${request.path}`,
        { kind: SpanKind.SERVER, attributes: { "syncstack.service": name }, startTime: started },
        parent,
      );
      active = trace.setSpan(parent, span);
      // A process without telemetry set up (no tracer provider) has no trace to name.
      const spanContext = span.spanContext();
      if (!response.headersSent && isSpanContextValid(spanContext))
        response.setHeader(traceIdHeader, spanContext.traceId);
      return active;
    };
    requestSpans.set(request, start);
    response.on("finish", () => {
      start(fromHeaders);
      // The matched route (a pattern, few values), not the path: the metric's label and the span's name.
      const route = request.route
        ? `${request.baseUrl}${routePattern(request.route.path)}`
        : "(unmatched)";
      span?.updateName(`${request.method} ${route}`);
      span?.setAttribute("http.route", route);
      span?.setAttribute("http.response.status_code", response.statusCode);
      span?.end();
      const latencyMs = performance.now() - started;
      instruments().httpDuration.record(latencyMs / 1_000, {
        route,
        method: request.method,
        status: response.statusCode,
      });
      context.with(active, () => {
        const level = response.statusCode >= 500 ? "warn" : "info";
        logger[level](`${request.method} ${request.originalUrl} ${response.statusCode}`, {
          httpRequest: {
            requestMethod: request.method,
            requestUrl: request.originalUrl,
            status: response.statusCode,
            latency: `${(latencyMs / 1_000).toFixed(4)}s`,
            userAgent: request.headers["user-agent"],
          },
          ...requestFacts(request),
        });
      });
    });
    if (deferred(request.path) && !request.headers.traceparent) next();
    else context.with(start(fromHeaders), next);
  };
}

/**
 * A route's path as people write it: a regular-expression route (used for paths with a colon,
 * `/v1/backups/:id:restore`) as its plain text, `/^\/v1\/x:y$/` as `/v1/x:y`.
 */
export function routePattern(path: unknown): string {
  if (!(path instanceof RegExp)) return String(path);
  return path.source.replace(/^\^/, "").replace(/\$$/, "").replace(/\\(.)/g, "$1");
}
