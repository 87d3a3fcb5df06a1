import { AppError, createApp, describeIssues, type Logger } from "@syncstack/shared";
import type { Express, Request } from "express";
import { z } from "zod";
import { OtlpFormatError, pointsOf, spansOf } from "./otlp-json.ts";
import type { TelemetryStore } from "./telemetry-store.ts";

/** OTLP exports are batches of up to a few thousand spans; more than this is a mistake. */
const bodyLimitBytes = 32 * 1_048_576;

const tracesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1_000).optional(),
  service: z.string().min(1).optional(),
});
const metricsQuery = z.strictObject({
  name: z.string().min(1).optional(),
  service: z.string().min(1).optional(),
});

function query<S extends z.ZodType>(schema: S, request: Request): z.output<S> {
  const parsed = schema.safeParse(request.query);
  if (!parsed.success)
    throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
  return parsed.data;
}

function otlp<T>(request: Request, read: (body: unknown) => T): T {
  const type = String(request.headers["content-type"] ?? "");
  if (!type.startsWith("application/json")) {
    throw new AppError(
      "unsupported_media_type",
      `content type ${JSON.stringify(type)} is not supported: export OTLP/HTTP as JSON (application/json)`,
    );
  }
  try {
    return read(request.body);
  } catch (error) {
    if (error instanceof OtlpFormatError) throw new AppError("invalid_argument", error.message);
    throw error;
  }
}

/**
 * The local stack's telemetry collector: an OTLP/HTTP (JSON) receiver at `/v1/traces` and
 * `/v1/metrics`, and the read API over what it keeps: `/api/traces` (recent ones),
 * `/api/traces/{traceId}` (all its spans across services), `/api/metrics` (series).
 */
export function createCollectorApp(store: TelemetryStore, logger: Logger): Express {
  return createApp({
    name: "telemetry-collector",
    logger,
    bodyLimitBytes,
    traced: false,
    routes: (app) => {
      app.post("/v1/traces", (request, response) => {
        store.addSpans(otlp(request, spansOf));
        response.json({});
      });
      app.post("/v1/metrics", (request, response) => {
        store.addPoints(otlp(request, pointsOf));
        response.json({});
      });
      app.get("/api/traces", (request, response) => {
        response.json({ traces: store.recentTraces(query(tracesQuery, request)) });
      });
      app.get("/api/traces/:traceId", (request, response) => {
        const traceId = String(request.params.traceId);
        if (!/^[0-9a-f]{32}$/i.test(traceId))
          throw new AppError("invalid_argument", "traceId must be 32 hexadecimal digits");
        const trace = store.trace(traceId);
        if (!trace) throw new AppError("not_found", `trace ${traceId} is not (or no longer) kept`);
        response.json(trace);
      });
      app.get("/api/metrics", (request, response) => {
        response.json({ series: store.series(query(metricsQuery, request)) });
      });
    },
  });
}
