import { AppError } from "@syncstack/shared";
import type { Express, RequestHandler } from "express";
import { bearerOf } from "./require-admin.ts";

/**
 * Calls a service's admin route with the admin's own token (or the collector, which has no
 * token) and answers what it answered (status and JSON, its errors included), so the
 * console adds no second set of rules.
 */
export async function forward(
  response: { status(code: number): { json(body: unknown): void } },
  url: string,
  init: RequestInit & { authorization?: string; timeoutMs?: number },
  what: string,
  get: typeof fetch = fetch,
): Promise<void> {
  const { authorization, timeoutMs, ...rest } = init;
  let answer: Response;
  try {
    answer = await get(url, {
      ...rest,
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        ...(authorization === undefined ? {} : { authorization }),
      },
      signal: AbortSignal.timeout(timeoutMs ?? 30_000),
    });
  } catch (error) {
    throw new AppError("unavailable", `the ${what} cannot be reached`, { cause: error });
  }
  const text = await answer.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new AppError("unavailable", `the ${what} answered ${answer.status} without JSON`, {
      cause: error,
    });
  }
  response.status(answer.status).json(body);
}

/**
 * `GET /v1/console/stats?from=&to=&limit=`: the analytics service's `GET /v1/stats` (latest
 * figures and history), asked with the admin's token and the same query.
 */
export function statsRoutes(
  app: Express,
  admin: RequestHandler[],
  analyticsUrl: string,
  get: typeof fetch = fetch,
): void {
  app.get("/v1/console/stats", ...admin, async (request, response) => {
    const query = request.originalUrl.includes("?")
      ? request.originalUrl.slice(request.originalUrl.indexOf("?"))
      : "";
    await forward(
      response,
      `${analyticsUrl}/v1/stats${query}`,
      { authorization: bearerOf(request) },
      "analytics service",
      get,
    );
  });
}
