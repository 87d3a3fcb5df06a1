import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { loadConfig } from "@syncstack/shared";
import { testEnv, testProjectId } from "@syncstack/shared/testing";
import { syncEnvSchema } from "./config.ts";
import { startSync } from "./testing/sync-fixture.ts";

const projectId = testProjectId();
const app = "http://127.0.0.1:5173";
let open: Awaited<ReturnType<typeof startSync>>;
let closed: Awaited<ReturnType<typeof startSync>>;

before(async () => {
  [open, closed] = await Promise.all([
    startSync({ projectId, env: { CORS_ORIGINS: `${app}, http://localhost:5173` } }),
    startSync({ projectId }),
  ]);
});
after(() => Promise.all([open.close(), closed.close()]));

const preflight = (
  url: string,
  origin: string,
  headers = "authorization,content-type,idempotency-key,if-match,last-event-id",
) =>
  fetch(`${url}/v1/sync:batch`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": headers,
    },
  });

describe("CORS of the sync service", () => {
  test("answers an allowed origin's preflight with the API's methods and headers", async () => {
    const response = await preflight(open.url, app);
    assert.equal(response.status, 204);
    assert.equal(response.headers.get("access-control-allow-origin"), app);
    assert.equal(response.headers.get("access-control-allow-methods"), "GET, POST, PATCH, DELETE");
    const allowed = (response.headers.get("access-control-allow-headers") ?? "")
      .toLowerCase()
      .split(", ");
    for (const header of [
      "authorization",
      "content-type",
      "idempotency-key",
      "if-match",
      "last-event-id",
    ]) {
      assert.ok(allowed.includes(header), `${header} is allowed`);
    }
    assert.equal(response.headers.get("access-control-allow-credentials"), null);
    assert.match(response.headers.get("vary") ?? "", /Origin/);
    const second = await preflight(open.url, "http://localhost:5173");
    assert.equal(second.headers.get("access-control-allow-origin"), "http://localhost:5173");
  });

  test("lets an allowed origin read answers and their ETag, errors included", async () => {
    const written = await open.post(
      "/v1/sync",
      { collection: "notes", document: "c1", data: { title: "hi" } },
      { headers: { origin: app } },
    );
    assert.equal(written.status, 200);
    assert.equal(written.headers.get("access-control-allow-origin"), app);
    assert.equal(
      written.headers.get("access-control-expose-headers"),
      "ETag, Idempotent-Replayed, Retry-After, X-Trace-Id",
    );
    const refused = await open.post(
      "/v1/sync",
      { collection: "notes", document: "c1", data: { title: "hi" }, colour: "red" },
      { headers: { origin: app } },
    );
    assert.equal(refused.status, 400);
    assert.equal(refused.headers.get("access-control-allow-origin"), app);
    const unauthenticated = await open.get("/v1/changes?collection=notes", {
      uid: null,
      headers: { origin: app },
    });
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.headers.get("access-control-allow-origin"), app);
  });

  test("refuses another origin's preflight, naming the origin, and gives its requests no CORS header", async () => {
    const response = await preflight(open.url, "http://evil.example");
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    const body = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "permission_denied");
    assert.match(body.error.message, /origin http:\/\/evil\.example is not allowed.*CORS_ORIGINS/);
    // A simple request is still answered (the token protects it), but the browser hides it.
    const read = await open.get("/v1/changes?collection=notes", {
      headers: { origin: "http://evil.example" },
    });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get("access-control-allow-origin"), null);
    assert.equal(read.headers.get("access-control-expose-headers"), null);
  });

  test("is closed to every origin when CORS_ORIGINS is unset", async () => {
    const response = await preflight(closed.url, app);
    assert.equal(response.status, 403);
    assert.equal(response.headers.get("access-control-allow-origin"), null);
    const read = await closed.get("/v1/changes?collection=notes", { headers: { origin: app } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get("access-control-allow-origin"), null);
    // Servers and curl send no Origin and see no difference.
    const plain = await closed.get("/v1/changes?collection=notes");
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("vary"), null);
  });

  test("refuses to start with a CORS_ORIGINS entry that is not an exact origin, naming it", () => {
    for (const [value, problem] of [
      ["http://127.0.0.1:5173/", /"http:\/\/127\.0\.0\.1:5173\/" is not an exact origin/],
      ["*", /"\*" is not an origin/],
      ["ftp://files.example", /is not an http\(s\) origin/],
      ["http://127.0.0.1:5173,127.0.0.1:5174", /"127\.0\.0\.1:5174" is not/],
    ] as const) {
      assert.throws(
        () => loadConfig(syncEnvSchema, testEnv(projectId, { CORS_ORIGINS: value })),
        (error: Error) => /CORS_ORIGINS/.test(error.message) && problem.test(error.message),
        value,
      );
    }
    const config = loadConfig(syncEnvSchema, testEnv(projectId, { CORS_ORIGINS: " " }));
    assert.deepEqual(config.CORS_ORIGINS, []);
  });
});
