import type { RequestHandler } from "express";
import { z } from "zod";
import { AppError } from "../errors.ts";

/** The request headers a browser app sends to the sync API (beyond the CORS-safelisted ones). */
export const corsAllowedHeaders = [
  "Authorization",
  "Content-Type",
  "Idempotency-Key",
  "If-Match",
  "If-None-Match",
  "Last-Event-ID",
] as const;

/** The response headers a browser app may read (beyond the CORS-safelisted ones). */
export const corsExposedHeaders = [
  "ETag",
  "Idempotent-Replayed",
  "Retry-After",
  "X-Trace-Id",
] as const;

const allowedMethods = "GET, POST, PATCH, DELETE";

/**
 * `CORS_ORIGINS`: a comma-separated list of exact origins (`http://127.0.0.1:5173`), each
 * `scheme://host[:port]` with no path; empty or unset allows no other origin at all.
 */
export const corsOriginsSchema = z
  .string()
  .optional()
  .transform((value, context) => {
    const origins: string[] = [];
    for (const entry of (value ?? "").split(",").map((part) => part.trim())) {
      if (entry === "") continue;
      const problem = originProblem(entry);
      if (problem) {
        context.addIssue({ code: "custom", message: `${JSON.stringify(entry)} ${problem}` });
        return z.NEVER;
      }
      origins.push(entry);
    }
    return origins;
  });

function originProblem(entry: string): string | undefined {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    return "is not an origin: give scheme://host[:port], e.g. http://127.0.0.1:5173";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "is not an http(s) origin";
  if (url.origin !== entry) {
    return `is not an exact origin (no path, no trailing slash, lowercase host, no default port): ${url.origin}`;
  }
  return undefined;
}

/**
 * Answers CORS for the listed origins only: their preflights get the methods and headers the
 * sync API uses, their requests the exposed response headers. A request from any other origin
 * gets no CORS header (the browser keeps the answer from the page), and its preflight a 403
 * naming the origin. Requests without an Origin (servers, curl) are untouched.
 */
export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (request, response, next) => {
    const origin = request.headers.origin;
    const preflight =
      request.method === "OPTIONS" &&
      request.headers["access-control-request-method"] !== undefined;
    if (origin === undefined) {
      next();
      return;
    }
    response.vary("Origin");
    if (!allowed.has(origin)) {
      if (preflight) {
        throw new AppError(
          "permission_denied",
          `origin ${origin} is not allowed to call this service (CORS_ORIGINS)`,
        );
      }
      next();
      return;
    }
    response.set("Access-Control-Allow-Origin", origin);
    if (!preflight) {
      response.set("Access-Control-Expose-Headers", corsExposedHeaders.join(", "));
      next();
      return;
    }
    response.set({
      "Access-Control-Allow-Methods": allowedMethods,
      "Access-Control-Allow-Headers": corsAllowedHeaders.join(", "),
      "Access-Control-Max-Age": "600",
    });
    response.status(204).end();
  };
}
