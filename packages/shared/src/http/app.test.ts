import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AppError } from "../errors.ts";
import { createLogger, type LogFields } from "../logger.ts";
import { setupTelemetry } from "../telemetry.ts";
import { listen, withoutTraceId } from "../testing/index.ts";
import { createApp } from "./app.ts";
import { routePattern } from "./trace-requests.ts";

setupTelemetry({ serviceName: "app-test", exporter: "none" });

describe("createApp", () => {
  const logs: LogFields[] = [];
  const logger = createLogger({
    projectId: "demo-app",
    write: (line) => logs.push(JSON.parse(line) as LogFields),
  });
  let healthy = true;
  const app = createApp({
    name: "test",
    logger,
    bodyLimitBytes: 1_024,
    readiness: {
      database: async () => {
        if (!healthy) throw new Error("connection refused");
      },
    },
    routes: (routes) => {
      routes.post("/echo", (request, response) => {
        response.json({ got: request.body });
      });
      routes.get("/conflict", () => {
        throw new AppError("conflict", "version 3 is newer", { details: { current_version: 3 } });
      });
      routes.get("/items/:id", (request, response) => {
        response.json({ id: request.params.id });
      });
      routes.get("/boom", () => {
        throw new Error("password=hunter2 at db.internal:5432");
      });
    },
  });
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    server = await listen(app);
  });
  after(() => server.close());

  const post = (body: string | Buffer, type = "application/json") =>
    fetch(`${server.url}/echo`, { method: "POST", body, headers: { "content-type": type } });

  test("answers /healthz and reports readiness of its dependencies on /readyz", async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
    healthy = false;
    const notReady = await fetch(`${server.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), {
      status: "unavailable",
      checks: { database: "unavailable" },
    });
    healthy = true;
  });

  test("parses JSON bodies and rejects malformed, oversized and non-JSON ones", async () => {
    assert.deepEqual(await (await post('{"a":1}')).json(), { got: { a: 1 } });
    const malformed = await post("{nope");
    assert.equal(malformed.status, 400);
    assert.deepEqual(withoutTraceId(await malformed.json()), {
      error: { code: "invalid_argument", message: "request body is not valid JSON" },
    });
    const latin1 = await post(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe9, 0x22, 0x7d]));
    assert.equal(latin1.status, 400, "invalid UTF-8 is refused, not turned into U+FFFD");
    assert.match(((await latin1.json()) as { error: { message: string } }).error.message, /UTF-8/);
    const big = await post(JSON.stringify({ a: "x".repeat(2_000) }));
    assert.equal(big.status, 413);
    const text = await post("a=1", "application/x-www-form-urlencoded");
    assert.equal(text.status, 415);
    assert.match(
      ((await text.json()) as { error: { message: string } }).error.message,
      /application\/json/,
    );
  });

  test("maps AppError to its status with details, and hides internal errors", async () => {
    const conflict = await fetch(`${server.url}/conflict`);
    assert.equal(conflict.status, 409);
    assert.deepEqual(withoutTraceId(await conflict.json()), {
      error: { code: "conflict", message: "version 3 is newer", details: { current_version: 3 } },
    });
    const boom = await fetch(`${server.url}/boom`);
    assert.equal(boom.status, 500);
    const body = await boom.text();
    assert.equal(
      body,
      `{"error":{"code":"internal","message":"internal error","trace_id":"${boom.headers.get("x-trace-id")}"}}`,
    );
    const logged = logs.find((entry) => entry.message === "request failed");
    assert.match(String(logged?.error), /hunter2/, "the cause is kept in the logs");
    assert.equal(logged?.severity, "ERROR");
  });

  test("refuses a path parameter that is not valid percent-encoding with a 400", async () => {
    assert.deepEqual(await (await fetch(`${server.url}/items/a%20b`)).json(), { id: "a b" });
    for (const id of ["%E0%A4", "%ZZ", "%"]) {
      const response = await fetch(`${server.url}/items/${id}`);
      assert.equal(response.status, 400, id);
      assert.deepEqual(withoutTraceId(await response.json()), {
        error: {
          code: "invalid_argument",
          message: "the path is not valid percent-encoded UTF-8",
        },
      });
    }
  });

  test("answers unknown routes with a JSON 404 and logs requests as Cloud Logging lines", async () => {
    const missing = await fetch(`${server.url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, "not_found");
    const entry = logs.find((e) => e.message === "GET /nowhere 404");
    assert.equal(entry?.severity, "INFO");
    assert.match(
      String(entry?.["logging.googleapis.com/trace"]),
      /^projects\/demo-app\/traces\/[0-9a-f]{32}$/,
    );
    assert.equal((entry?.httpRequest as { status?: number } | undefined)?.status, 404);
  });
});

test("a regular-expression route is named by its plain text in metrics and spans", () => {
  assert.equal(
    routePattern(/^\/v1\/console\/dead-letters:replay$/),
    "/v1/console/dead-letters:replay",
  );
  assert.equal(
    routePattern("/v1/documents/:collection/:document"),
    "/v1/documents/:collection/:document",
  );
});
