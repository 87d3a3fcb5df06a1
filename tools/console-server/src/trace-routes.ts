import { AppError } from "@syncstack/shared";
import type { Express, RequestHandler } from "express";
import { z } from "zod";
import type { CloudTraceSource } from "./cloud-trace.ts";
import { parseQuery } from "./parse.ts";
import { forward } from "./stats-routes.ts";

const tracesQuery = z.strictObject({
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be at least 1")
    .max(200, "limit must be at most 200")
    .default(30),
  service: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, "service must be a service name")
    .optional(),
});

/** Where the traces come from: the collector's URL, Cloud Trace, or none (the routes say so). */
export type TraceReader =
  | { kind: "collector"; url: string }
  | { kind: "cloud"; source: CloudTraceSource }
  | { kind: "none" };

function noSource(): never {
  throw new AppError(
    "unavailable",
    "no trace source: the console server has no TELEMETRY_URL (the local stack's collector) and does not read Cloud Trace (CONSOLE_TELEMETRY_SOURCE, docs/console.md)",
  );
}

/**
 * `GET /v1/console/traces?limit=&service=` (the most recent traces) and
 * `GET /v1/console/traces/{traceId}` (one trace's spans across services, in start order),
 * read from the telemetry collector's API or from Cloud Trace, in the collector's shapes.
 */
export function traceRoutes(
  app: Express,
  admin: RequestHandler[],
  reader: TraceReader,
  get: typeof fetch = fetch,
): void {
  app.get("/v1/console/traces", ...admin, async (request, response) => {
    const query = parseQuery(tracesQuery, request.query);
    if (reader.kind === "none") noSource();
    if (reader.kind === "cloud") {
      response.json(await reader.source.recent(query));
      return;
    }
    const search = new URLSearchParams({ limit: String(query.limit) });
    if (query.service) search.set("service", query.service);
    await forward(response, `${reader.url}/api/traces?${search}`, {}, "telemetry collector", get);
  });
  app.get("/v1/console/traces/:traceId", ...admin, async (request, response) => {
    parseQuery(z.strictObject({}), request.query);
    const traceId = String(request.params.traceId).trim().toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(traceId)) {
      throw new AppError(
        "invalid_argument",
        "the trace id must be 32 hexadecimal digits (an answer's x-trace-id header)",
      );
    }
    if (reader.kind === "none") noSource();
    if (reader.kind === "cloud") {
      const trace = await reader.source.trace(traceId);
      if (!trace) throw new AppError("not_found", `Cloud Trace has no trace ${traceId}`);
      response.json(trace);
      return;
    }
    await forward(response, `${reader.url}/api/traces/${traceId}`, {}, "telemetry collector", get);
  });
}
