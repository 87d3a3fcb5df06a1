import { isUtf8 } from "node:buffer";
import { context } from "@opentelemetry/api";
import express, { type ErrorRequestHandler, type Express, type RequestHandler } from "express";
import { withDeadline } from "../deadline.ts";
import { AppError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { cors } from "./cors.ts";
import { continueRequestTrace, traceIdHeader, traceRequests } from "./trace-requests.ts";

/** A readiness check: resolves when the dependency answers. */
export type ReadinessCheck = () => Promise<unknown>;

export interface AppOptions {
  name: string;
  logger: Logger;
  bodyLimitBytes: number;
  /** Dependencies `/readyz` checks, by name. */
  readiness?: Record<string, ReadinessCheck>;
  readinessTimeoutMs?: number;
  /** Browser origins allowed to call the service (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** Mounts the service's own routes. */
  routes: (app: Express) => void;
  /**
   * Paths whose server span waits for `continueRequestTrace` (push endpoints: the trace is
   * the message's, known once the body is read); none by default.
   */
  deferTracing?: (path: string) => boolean;
  /**
   * Trace and log each request (the default). Off for a receiver of telemetry: spans of its
   * own requests would be exported to it, each export making the next.
   */
  traced?: boolean;
}

/** State the app shares with `serve`, so a draining server reports not ready. */
export interface AppState {
  draining: boolean;
}

const appState = new WeakMap<Express, AppState>();

/** The state of an app built by createApp. */
export function stateOf(app: Express): AppState {
  const state = appState.get(app);
  if (!state) throw new Error("not an app built by createApp");
  return state;
}

/**
 * Builds a service's express app: tracing and request logs, CORS for the allowed origins,
 * JSON bodies within a size limit, `/healthz` and `/readyz`, and one error middleware that maps AppError to a status
 * and a JSON body, never leaking a stack or an internal message.
 */
export function createApp(options: AppOptions): Express {
  const { logger } = options;
  const app = express();
  const state: AppState = { draining: false };
  appState.set(app, state);
  app.disable("x-powered-by");
  // A route that means a version sets a strong ETag itself; Express's weak body hashes never.
  app.set("etag", false);
  app.set("trust proxy", true);

  if (options.traced !== false)
    app.use(traceRequests(options.name, logger, options.deferTracing ?? (() => false)));
  // First, so that every answer to an allowed origin, errors included, is readable by it.
  app.use(cors(options.corsOrigins ?? []));
  app.get("/healthz", (_request, response) => {
    response.json({ status: "ok", service: options.name });
  });
  app.get("/readyz", async (_request, response) => {
    if (state.draining) {
      response.status(503).json({ status: "draining" });
      return;
    }
    const checks = Object.entries(options.readiness ?? {});
    const results = await Promise.all(
      checks.map(async ([name, check]) => {
        try {
          await withDeadline(`readyz ${name}`, options.readinessTimeoutMs ?? 2_000, check);
          return [name, "ok"] as const;
        } catch (error) {
          logger.warn("readiness check failed", { check: name, error });
          return [name, "unavailable"] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result === "ok");
    response
      .status(ready ? 200 : 503)
      .json({ status: ready ? "ok" : "unavailable", checks: Object.fromEntries(results) });
  });
  app.use(requireJsonBody);
  app.use(express.json({ limit: options.bodyLimitBytes, type: isJson, verify: requireUtf8 }));
  options.routes(app);
  app.use((request) => {
    throw new AppError("not_found", `no route for ${request.method} ${request.path}`);
  });
  app.use(errorHandler(logger));
  return app;
}

function isJson(request: { headers: Record<string, unknown> }): boolean {
  const type =
    String(request.headers["content-type"] ?? "")
      .split(";")[0]
      ?.trim()
      .toLowerCase() ?? "";
  return type === "application/json" || type.endsWith("+json");
}

const requireJsonBody: RequestHandler = (request, _response, next) => {
  const hasBody =
    Number(request.headers["content-length"] ?? 0) > 0 || request.headers["transfer-encoding"];
  if (hasBody && !isJson(request)) {
    throw new AppError(
      "unsupported_media_type",
      `content type ${JSON.stringify(request.headers["content-type"] ?? "")} is not supported; send application/json`,
    );
  }
  next();
};

/** The JSON parser would silently turn invalid UTF-8 into U+FFFD, changing ids and data. */
function requireUtf8(_request: unknown, _response: unknown, body: Buffer): void {
  if (!isUtf8(body)) throw Object.assign(new Error("invalid UTF-8"), { type: "encoding.invalid" });
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, request, response, _next) => {
    const appError = toAppError(error);
    if (appError.status >= 500) {
      logger.error("request failed", { error, path: request.path });
    }
    if (response.headersSent) return;
    // A client may try again, and should wait a moment first rather than hammer a dependency.
    if (appError.retryable) response.set("Retry-After", "1");
    // A deferred span (a push whose envelope did not parse) starts here, for the trace id.
    continueRequestTrace(request, context.active());
    const traceId = response.getHeader(traceIdHeader);
    response.status(appError.status).json({
      error: {
        code: appError.code,
        message: appError.message,
        ...(appError.details ? { details: appError.details } : {}),
        ...(typeof traceId === "string" ? { trace_id: traceId } : {}),
      },
    });
  };
}

function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const type = (error as { type?: string }).type;
  if (type === "entity.too.large") {
    return new AppError("payload_too_large", "request body is larger than the limit", {
      cause: error,
    });
  }
  if (type === "entity.parse.failed") {
    return new AppError("invalid_argument", "request body is not valid JSON", { cause: error });
  }
  if (type === "encoding.invalid") {
    return new AppError("invalid_argument", "request body is not valid UTF-8", { cause: error });
  }
  // Express decodes path parameters and throws URIError for a bad percent-encoding.
  if (error instanceof URIError) {
    return new AppError("invalid_argument", "the path is not valid percent-encoded UTF-8", {
      cause: error,
    });
  }
  if (type === "encoding.unsupported" || type === "charset.unsupported") {
    return new AppError("unsupported_media_type", "request body encoding is not supported", {
      cause: error,
    });
  }
  return new AppError("internal", "internal error", { cause: error });
}
