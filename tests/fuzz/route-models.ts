import fc from "fast-check";
import { anyJson, badId, hostileString } from "./hostile.ts";
import { type HttpCase, jsonBodyCases, naming, queryCases, wrongTypeOf } from "./http-case.ts";

/** How to fuzz one route, keyed by service and route (`sync POST /v1/sync`). */
export type RouteModels = Record<string, fc.Arbitrary<HttpCase>>;

/** The uid of the fuzzer's own token; its profile is the only one it may announce. */
export const fuzzUid = "fuzzer";

const badIfMatch = fc
  .oneof(
    fc.constantFrom("", "*", '"abc"', "W/", "1.5", "-1", '"1", "2"', "99999999999999999999999"),
    fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((text) => !/^\s*(?:W\/)?"?\d+"?\s*$/.test(text)),
  )
  .filter(isHeaderValue);
const badIdempotencyKey = fc
  .oneof(
    fc.constantFrom("", " ", "a b", "\u00e9t\u00e9", "k".repeat(256)),
    fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 10 }).map((text) => `${text} x`),
  )
  .filter(isHeaderValue);

const change = { collection: "notes", document: "n1", data: { title: "hi" }, source: "ios" };

/** A page token of the fuzzer's own listing, well-formed (the files it names do not exist). */
const filesPageToken = Buffer.from(
  JSON.stringify({ s: 1_700_000_000, n: 0, id: "0".repeat(40), o: fuzzUid }),
).toString("base64url");

/** Ids of files: odd, hostile, or well-formed but missing (the fuzzer uploads nothing). */
const fileIds = fc
  .oneof(
    badId,
    hostileString,
    fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: 40, maxLength: 40 }),
  )
  .map((id) => encodeURIComponent(id.toWellFormed()))
  // An empty id is the listing's path.
  .filter((id) => id.length > 0);

/** Query parameters none of a file's routes take: a 400 naming them. */
const unknownParameters = fc
  .dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 }), {
    minKeys: 1,
    maxKeys: 3,
  })
  .map((extra) =>
    Object.entries(extra)
      .map(
        ([k, v]) =>
          `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent(v.toWellFormed())}`,
      )
      .join("&"),
  );

/** Requests for one file's resource at `path(id)`: missing or odd ids are the 404 of a missing file. */
function fileCases(route: string, path: (id: string) => string): fc.Arbitrary<HttpCase> {
  return fc.oneof(
    fileIds.map(
      (id): HttpCase => ({
        label: `odd or missing file id (${route})`,
        method: "GET",
        path: path(id),
        headers: {},
        expect: { outcome: "refused", statuses: [404], names: naming("file") },
      }),
    ),
    fc.tuple(fileIds, unknownParameters).map(
      ([id, query]): HttpCase => ({
        label: `query parameters (${route})`,
        method: "GET",
        path: `${path(id)}?${query}`,
        headers: {},
        expect: { outcome: "refused", statuses: [400], names: naming("query parameter") },
      }),
    ),
    fc.constantFrom("%zz", "%E0%A4%A", "%ff", "a%", "%C0%AF").map(
      (id): HttpCase => ({
        label: `bad percent-encoding in the path (${route})`,
        method: "GET",
        path: path(id),
        headers: {},
        expect: { outcome: "refused", statuses: [400], names: naming("percent-encod") },
      }),
    ),
    fc.tuple(fileIds, badIfMatch).map(
      ([id, tag]): HttpCase => ({
        label: `If-None-Match on a missing file (${route})`,
        method: "GET",
        path: path(id),
        headers: { "if-none-match": tag },
        expect: { outcome: "refused", statuses: [404], names: naming("file") },
      }),
    ),
  );
}

/** The routes of every service with a model of their valid requests. */
export function routeModels(limitBytes: number): RouteModels {
  return {
    "sync POST /v1/sync": jsonBodyCases(
      {
        method: "POST",
        path: "/v1/sync",
        valid: change,
        required: ["collection", "document", "data"],
        idFields: ["collection", "document"],
        mapFields: ["data"],
        headers: { "if-match": badIfMatch, "idempotency-key": badIdempotencyKey },
      },
      limitBytes,
    ),
    "sync POST /v1/sync:batch": fc.oneof(
      jsonBodyCases(
        {
          method: "POST",
          path: "/v1/sync:batch",
          valid: { changes: [change] },
          required: ["changes"],
        },
        limitBytes,
      ),
      fc.integer({ min: 501, max: 700 }).map(
        (count): HttpCase => ({
          label: "too many changes",
          method: "POST",
          path: "/v1/sync:batch",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ changes: Array(count).fill(null) }),
          expect: { outcome: "refused", statuses: [400], names: /changes/ },
        }),
      ),
    ),
    "sync GET /v1/changes": queryCases({
      method: "GET",
      path: "/v1/changes",
      valid: { collection: "notes", limit: "10" },
      required: ["collection"],
      idFields: ["collection"],
    }),
    "sync POST /v1/users": jsonBodyCases(
      {
        method: "POST",
        path: "/v1/users",
        valid: {
          uid: fuzzUid,
          email: "fuzzer@example.com",
          display_name: "Fuzzer",
          photo_url: "https://example.com/f.png",
          email_verified: true,
        },
        required: ["uid"],
      },
      limitBytes,
    ),
    "backup POST /^\\/v1\\/backups\\/([^/:]+):restore$/": fc.oneof(
      jsonBodyCases(
        {
          method: "POST",
          path: "/v1/backups/b1:restore",
          valid: { collections: ["notes"], prefix: "r_", project: "demo-other", dry_run: true },
          required: [],
          resource: "backup",
        },
        limitBytes,
      ),
      fc.oneof(badId, hostileString).map(
        (id): HttpCase => ({
          label: "odd backup id",
          method: "POST",
          path: `/v1/backups/${encodeURIComponent(id.toWellFormed())}:restore`,
          headers: { "content-type": "application/json" },
          body: "{}",
          expect: { outcome: "refused", statuses: [400, 404], names: naming("backup") },
        }),
      ),
    ),
    "backup GET /v1/backups": backupQueryCases("/v1/backups"),
    "backup GET /v1/backups/config": backupQueryCases("/v1/backups/config"),
    "backup POST /v1/backups": backupBodyCases("POST", "/v1/backups", {}),
    "backup PATCH /v1/backups/config": backupBodyCases("PATCH", "/v1/backups/config", {
      enabled: true,
      collections: ["notes"],
      storage_bucket: "demo-fuzz-backups",
      retention_days: 30,
    }),
    "backup GET /v1/backups/:id": fc.oneof(badId, hostileString).map(
      (id): HttpCase => ({
        label: "odd or missing backup id",
        method: "GET",
        path: `/v1/backups/${encodeURIComponent(id.toWellFormed()) || "x"}`,
        headers: {},
        expect: { outcome: "refused", statuses: [400, 404], names: naming("backup") },
      }),
    ),
    "sync GET /v1/documents/:collection/:document": documentCases("GET"),
    "sync PATCH /v1/documents/:collection/:document": documentCases("PATCH"),
    "sync DELETE /v1/documents/:collection/:document": documentCases("DELETE"),
    "files GET /v1/files": queryCases({
      method: "GET",
      path: "/v1/files",
      valid: { limit: "10", owner: fuzzUid, page_token: filesPageToken },
      required: [],
    }),
    "files GET /v1/files/:id": fileCases("record", (id) => `/v1/files/${id}`),
    "files GET /v1/files/:id/thumbnails/:size": fc.oneof(
      fileCases("thumbnail", (id) => `/v1/files/${id}/thumbnails/200`),
      fc.oneof(hostileString, fc.constantFrom("0", "-1", "200.0", "1e3", "abc")).map(
        (size): HttpCase => ({
          label: "odd thumbnail size of a missing file",
          method: "GET",
          path: `/v1/files/${"0".repeat(40)}/thumbnails/${encodeURIComponent(size.toWellFormed()) || "x"}`,
          headers: {},
          expect: { outcome: "refused", statuses: [404], names: naming("file") },
        }),
      ),
    ),
    "analytics GET /v1/stats": queryCases({
      method: "GET",
      path: "/v1/stats",
      valid: { from: "2024-01-01T00:00:00Z", to: "2024-02-01T00:00:00Z", limit: "10" },
      required: [],
    }),
    "analytics GET /v1/users/:uid/stats": fc.oneof(
      queryCases({ method: "GET", path: "/v1/users/me/stats", valid: {}, required: [] }),
      fc.oneof(badId, hostileString).map(
        (uid): HttpCase => ({
          label: "odd uid",
          method: "GET",
          path: `/v1/users/${encodeURIComponent(uid.toWellFormed())}/stats`,
          headers: {},
          // A valid uid without a record is a 404 naming the user (a 200 if one has one).
          expect: { outcome: "either", statuses: [200, 400, 404], names: naming("uid", "user") },
        }),
      ),
    ),
  };
}

/**
 * Requests to a document's path (`/v1/documents/{collection}/{document}`): odd ids in either
 * segment, unknown query parameters, odd preconditions and keys, and for PATCH hostile merge
 * patches and content types other than application/merge-patch+json.
 */
function documentCases(method: "GET" | "PATCH" | "DELETE"): fc.Arbitrary<HttpCase> {
  const path = (collection: string, document: string) =>
    `/v1/documents/${encodeURIComponent(collection.toWellFormed())}/${encodeURIComponent(document.toWellFormed())}`;
  const patchHeaders = { "content-type": "application/merge-patch+json" };
  const headers = method === "PATCH" ? patchHeaders : {};
  const body = method === "PATCH" ? JSON.stringify({ title: "hi", gone: null }) : undefined;
  const request = (label: string, overrides: Partial<HttpCase>, expect: HttpCase["expect"]) => ({
    label,
    method,
    path: path("notes", "n1"),
    headers,
    ...(body === undefined ? {} : { body }),
    ...overrides,
    expect,
  });
  const cases: fc.Arbitrary<HttpCase>[] = [
    fc.tuple(fc.boolean(), fc.oneof(badId, hostileString)).map(([inCollection, id]) =>
      request(
        `odd id in the ${inCollection ? "collection" : "document"} segment`,
        { path: inCollection ? path(id, "n1") : path("notes", id) },
        {
          outcome: "either",
          names: naming("collection", "document", "no route", "unknown field", "data"),
        },
      ),
    ),
    fc.stringMatching(/^[a-z]{1,8}$/).map((name) =>
      request(
        "unknown query parameter",
        { path: `${path("notes", "n1")}?${name}=1` },
        {
          outcome: "refused",
          statuses: [400],
          names: naming(`unknown query parameter: ${name}`),
        },
      ),
    ),
  ];
  if (method !== "GET") {
    cases.push(
      fc
        .oneof(
          badIfMatch.map((value) => ["if-match", value, "If-Match"] as const),
          badIdempotencyKey.map((value) => ["idempotency-key", value, "Idempotency-Key"] as const),
        )
        .map(([header, value, name]) =>
          request(
            `odd ${header}`,
            { headers: { ...headers, [header]: value } },
            { outcome: "refused", statuses: [400], names: naming(name) },
          ),
        ),
    );
  }
  if (method === "GET") {
    cases.push(
      fc
        .string({ maxLength: 30 })
        .filter(isHeaderValue)
        .map((value) =>
          request(
            "odd if-none-match",
            { headers: { "if-none-match": value } },
            { outcome: "either", names: /./ },
          ),
        ),
    );
  }
  if (method === "PATCH") {
    cases.push(
      anyJson.map((patch) =>
        request(
          "any JSON as a merge patch",
          { body: JSON.stringify(patch) },
          { outcome: "either", names: naming("patch", "data", "JSON", "object", "field") },
        ),
      ),
      fc.constantFrom("application/json", "text/plain", "application/json-patch+json").map((type) =>
        request(
          "not a merge patch",
          { headers: { "content-type": type } },
          {
            outcome: "refused",
            statuses: [400, 415],
            names: naming("merge-patch", "content type"),
          },
        ),
      ),
    );
  }
  return fc.oneof(...cases);
}

/**
 * Requests to the health checks, which ignore whatever comes with them; readiness may
 * answer 503 while a dependency is slow, which is what it is for.
 */
export function healthCases(path: string): fc.Arbitrary<HttpCase> {
  return fc
    .record({
      query: fc.string({ maxLength: 20 }),
      body: fc.option(fc.string({ maxLength: 50 }), { nil: undefined }),
    })
    .map(({ query, body }) => ({
      label: "health check with junk",
      method: "GET",
      path: `${path}?${encodeURIComponent(query)}`,
      headers: {},
      ...(body === undefined ? {} : { body }),
      expect: { outcome: "either", statuses: path === "/readyz" ? [200, 503] : [200], names: /./ },
    }));
}

/** Requests to paths and methods no service serves: a JSON 404 naming the path. */
export const unknownRouteCases: fc.Arbitrary<HttpCase> = fc
  .record({
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH"),
    path: fc.oneof(
      fc.webPath(),
      fc.constantFrom(
        "/v1/sync/",
        "/v1/SYNC",
        "/v1/sync%2F..",
        "/v1/%2e%2e/v1/sync",
        "/pubsub/unknown-topic",
        "/v1/backups/x:restore/more",
        "//v1/sync",
      ),
    ),
  })
  .filter(({ path }) => !["/healthz", "/readyz"].includes(path))
  .map(({ method, path }) => ({
    label: "unknown route",
    method,
    path,
    headers: {},
    expect: { outcome: "either", names: /./ },
  }));

function isHeaderValue(text: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(text) && text.trim() === text;
}

/** A concrete path of a declared route (a RegExp route needs an example here). */
export function samplePath(path: string | RegExp): string {
  if (typeof path === "string") return path.replaceAll(/:(\w+)/g, "sample-$1");
  const samples: Record<string, string> = {
    "/^\\/v1\\/backups\\/([^/:]+):restore$/": "/v1/backups/b1:restore",
  };
  const sample = samples[String(path)];
  if (!sample) throw new Error(`no example path for route ${String(path)}: add one to samplePath`);
  return sample;
}

/** An admin GET of the backup service that takes no query parameter: any is a 400 naming it. */
function backupQueryCases(path: string): fc.Arbitrary<HttpCase> {
  return unknownParameters.map(
    (query): HttpCase => ({
      label: `query parameters (${path})`,
      method: "GET",
      path: `${path}?${query}`,
      headers: {},
      expect: { outcome: "refused", statuses: [400], names: naming("query parameter") },
    }),
  );
}

/**
 * Refused bodies of a backup admin route (only refused ones: an accepted one would request a
 * backup or change config/backup): an unknown field, or a known one of the wrong type.
 */
function backupBodyCases(
  method: "POST" | "PATCH",
  path: string,
  valid: Record<string, unknown>,
): fc.Arbitrary<HttpCase> {
  const body = (label: string, value: unknown, names: RegExp): HttpCase => ({
    label,
    method,
    path,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(value),
    expect: { outcome: "refused", statuses: [400], names },
  });
  const unknown = fc
    .string({ minLength: 1, maxLength: 12 })
    .filter((name) => !Object.hasOwn(valid, name) && name !== "__proto__")
    .map((name) => body("unknown field", { [name]: 1 }, naming("unknown field")));
  const fields = Object.keys(valid);
  if (fields.length === 0) return unknown;
  const wrong = fc
    .constantFrom(...fields)
    .chain((field) =>
      wrongTypeOf(valid[field]).map((value) =>
        body(`wrong type of ${field}`, { [field]: value }, naming(field)),
      ),
    );
  return fc.oneof(unknown, wrong);
}
