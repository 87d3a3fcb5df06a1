import { AppError, firestoreIdProblem } from "@syncstack/shared";
import type { Express, Request, RequestHandler } from "express";
import { z } from "zod";
import { parseQuery } from "./parse.ts";
import { bearerOf } from "./require-admin.ts";
import { forward } from "./stats-routes.ts";

const noQuery = z.strictObject({});

function backupIdOf(request: Request): string {
  const id = String((request.params as Record<string, string>).id ?? request.params[0]);
  const problem = firestoreIdProblem(id, "the backup id");
  if (problem) throw new AppError("invalid_argument", problem);
  return encodeURIComponent(id);
}

/**
 * The backup service's admin routes under `/v1/console/backups`, called with the admin's own
 * token: the listing (records and bucket), one backup, a manual request, `config/backup`, and
 * a restore (dry run or into a prefix). The backup service checks bodies; its answers, errors
 * included, come back as they are.
 */
export function backupRoutes(
  app: Express,
  admin: RequestHandler[],
  backupUrl: string,
  onChange: () => void,
  get: typeof fetch = fetch,
): void {
  const call = (request: Request, method: string, path: string) => ({
    url: `${backupUrl}${path}`,
    init: {
      method,
      authorization: bearerOf(request),
      // A restore verifies every object and writes every document before it answers.
      timeoutMs: path.endsWith(":restore") ? 600_000 : 30_000,
      ...(method === "GET"
        ? {}
        : {
            headers: { "content-type": "application/json" },
            body: JSON.stringify(request.body ?? {}),
          }),
    },
  });
  const pass = async (
    request: Request,
    response: Parameters<RequestHandler>[1],
    method: string,
    path: string,
  ) => {
    parseQuery(noQuery, request.query);
    const { url, init } = call(request, method, path);
    await forward(response, url, init, "backup service", get);
  };
  app.get("/v1/console/backups", ...admin, (request, response) =>
    pass(request, response, "GET", "/v1/backups"),
  );
  app.post("/v1/console/backups", ...admin, async (request, response) => {
    await pass(request, response, "POST", "/v1/backups");
    onChange();
  });
  app.get("/v1/console/backups/config", ...admin, (request, response) =>
    pass(request, response, "GET", "/v1/backups/config"),
  );
  app.patch("/v1/console/backups/config", ...admin, (request, response) =>
    pass(request, response, "PATCH", "/v1/backups/config"),
  );
  app.get("/v1/console/backups/:id", ...admin, (request, response) =>
    pass(request, response, "GET", `/v1/backups/${backupIdOf(request)}`),
  );
  app.post(/^\/v1\/console\/backups\/([^/:]+):restore$/, ...admin, (request, response) =>
    pass(request, response, "POST", `/v1/backups/${backupIdOf(request)}:restore`),
  );
}
