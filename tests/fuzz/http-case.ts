import fc from "fast-check";
import { anyJson, badId, deepJsonText, hostileString, nested } from "./hostile.ts";

/** One generated request and what the service must do with it. */
export interface HttpCase {
  /** The kind of bad input, for failure messages. */
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** A string is sent as UTF-8; a Buffer as it is (invalid UTF-8). */
  body?: string | Buffer;
  expect: Expectation;
}

/**
 * What the service must answer: `refused` with one of `statuses`, or `either` accepted or
 * refused; a refusal is a 4xx whose JSON error message matches `names`.
 */
export interface Expectation {
  outcome: "refused" | "either";
  statuses?: readonly number[];
  names: RegExp;
}

const refused = (statuses: readonly number[], names: RegExp): Expectation => ({
  outcome: "refused",
  statuses,
  names,
});
const either = (names: RegExp): Expectation => ({ outcome: "either", names });

/** How a JSON-body route's valid request looks, so its fields can be broken one at a time. */
export interface JsonBodyModel {
  method: "POST";
  path: string;
  valid: Record<string, unknown>;
  required: readonly string[];
  /** Fields holding Firestore ids: bad ids must be refused naming the field. */
  idFields?: readonly string[];
  /** Fields holding a JSON map written to Firestore. */
  mapFields?: readonly string[];
  /** What the route acts on, which a refusal of an acceptable body may name instead of a field. */
  resource?: string;
  /** Headers the route reads, each with values it must refuse naming the header. */
  headers?: Record<string, fc.Arbitrary<string>>;
}

/** How a query-string route's valid request looks. */
export interface QueryModel {
  method: "GET";
  path: string;
  valid: Record<string, string>;
  required: readonly string[];
  idFields?: readonly string[];
}

const json = { "content-type": "application/json" };
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** An error message naming any of `names`. */
export const naming = (...names: string[]) => new RegExp(names.map(escapeRegExp).join("|"), "i");

/** A value of another JSON type than `value`'s. */
export function wrongTypeOf(value: unknown): fc.Arbitrary<unknown> {
  const kinds: Record<string, fc.Arbitrary<unknown>> = {
    string: fc.oneof(fc.integer(), fc.boolean(), fc.array(fc.string())),
    number: fc.oneof(
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.dictionary(fc.string(), fc.integer()),
    ),
    boolean: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant([])),
    array: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.dictionary(fc.string(), fc.integer()),
    ),
    object: fc.oneof(
      fc.string(),
      fc.integer(),
      fc.constant(null),
      fc.array(fc.integer()),
      fc.boolean(),
    ),
  };
  const kind = Array.isArray(value) ? "array" : value === null ? "object" : typeof value;
  return kinds[kind] ?? fc.constant(Symbol.for("never"));
}

/** Requests with a broken body for a JSON route, each labelled with what is wrong. */
export function jsonBodyCases(model: JsonBodyModel, limitBytes: number): fc.Arbitrary<HttpCase> {
  const base = (
    label: string,
    body: string | Buffer,
    expect: Expectation,
    headers: Record<string, string> = json,
  ): HttpCase => ({
    label,
    method: model.method,
    path: model.path,
    headers,
    body,
    expect,
  });
  const fields = Object.keys(model.valid);
  const resource = model.resource ? [model.resource] : [];
  const withField = (field: string, value: unknown) => ({ ...model.valid, [field]: value });
  // Strict input: a body with fields the route does not know is refused naming them.
  const anyName = naming(...fields, "body", "JSON", "object", "required", "unknown field");

  const cases: fc.Arbitrary<HttpCase>[] = [
    fc
      .oneof(
        fc.string({ minLength: 1, maxLength: 40 }).filter((text) => !isJson(text)),
        fc
          .constant(JSON.stringify(model.valid))
          .chain((text) =>
            fc.integer({ min: 1, max: text.length - 1 }).map((cut) => text.slice(0, cut)),
          ),
        fc.constantFrom(
          "{'a':1}",
          "{a:1}",
          "[1,]",
          '{"a":1}}',
          "NaN",
          '{"a":\u0000}',
          "\u00ef\u00bb\u00bf{}",
        ),
      )
      .map((text) => base("malformed JSON", text, refused([400], /JSON/))),
    fc
      .tuple(
        fc.constantFrom(
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/xml",
          "application/octet-stream",
          "application/jsonx",
          "json",
          "",
        ),
        fc.constant(JSON.stringify(model.valid)),
      )
      .map(([type, body]) =>
        base(
          "wrong content type",
          body,
          refused([415], /content type/),
          type ? { "content-type": type } : {},
        ),
      ),
    fc
      .integer({ min: limitBytes + 1, max: limitBytes * 2 })
      .map((size) =>
        base(
          "oversized body",
          JSON.stringify({ ...model.valid, pad: "x".repeat(size) }),
          refused([413], /limit/),
        ),
      ),
    deepJsonText.map((text) => base("deeply nested body", text, refused([400, 413], anyName))),
    fc
      .constantFrom(
        "null",
        "1",
        '"text"',
        "true",
        "[]",
        "[1,2]",
        model.required.length ? "{}" : "[{}]",
      )
      .map((text) => base("body of the wrong shape", text, refused([400], anyName))),
    ...fields.map((field) =>
      wrongTypeOf(model.valid[field]).map((value) =>
        base(
          `wrong type of ${field}`,
          JSON.stringify(withField(field, value)),
          refused([400, 403], naming(field)),
        ),
      ),
    ),
    ...model.required.map((field) =>
      fc.constant(field).map(() => {
        const { [field]: _dropped, ...rest } = model.valid;
        return base(`missing ${field}`, JSON.stringify(rest), refused([400], naming(field)));
      }),
    ),
    ...fields
      .filter((field) => typeof model.valid[field] === "string")
      .map((field) =>
        hostileString.map((value) =>
          // May be accepted; when refused, the error must name the field.
          base(
            `hostile ${field}`,
            JSON.stringify(withField(field, value)),
            either(naming(field, ...resource)),
          ),
        ),
      ),
    ...(model.idFields ?? []).map((field) =>
      badId.map((value) =>
        base(
          `bad id in ${field}`,
          JSON.stringify(withField(field, value)),
          refused([400, 403], naming(field)),
        ),
      ),
    ),
    ...(model.mapFields ?? []).flatMap((field) => [
      fc
        .tuple(
          fc.integer({ min: 21, max: 2_000 }),
          fc.constantFrom("object" as const, "array" as const),
        )
        .map(([depth, kind]) =>
          base(
            `${field} nested too deep`,
            JSON.stringify(withField(field, { deep: nested(depth, kind) })),
            refused([400, 403], naming(field)),
          ),
        ),
      fc
        .dictionary(hostileString, fc.oneof(hostileString, anyJson), { minKeys: 1, maxKeys: 4 })
        .map((map) =>
          base(
            `hostile keys and values in ${field}`,
            JSON.stringify(withField(field, map)),
            either(naming(field, ...resource)),
          ),
        ),
      fc
        .constantFrom(
          { "": 1 },
          { __name__: 1 },
          { a: [[1]] },
          { ["k".repeat(1_501)]: 1 },
          { a: { __x__: 1 } },
        )
        .map((map) =>
          base(
            `field names Firestore refuses in ${field}`,
            JSON.stringify(withField(field, map)),
            refused([400, 403], naming(field)),
          ),
        ),
    ]),
    ...Object.entries(model.headers ?? {}).map(([header, values]) =>
      values.map((value) => ({
        ...base(
          `bad ${header} header`,
          JSON.stringify(model.valid),
          refused([400], naming(header)),
        ),
        headers: { ...json, [header]: value },
      })),
    ),
    fc
      .string({ unit: "binary", minLength: 1, maxLength: 200 })
      .map((text) =>
        base(
          "invalid UTF-8 bytes",
          Buffer.concat([
            Buffer.from('{"x":"'),
            Buffer.from([0xff, 0xfe, 0xc0]),
            Buffer.from(text),
            Buffer.from('"}'),
          ]),
          refused([400], naming("UTF-8")),
        ),
      ),
  ];
  return fc.oneof(...cases);
}

/** Requests with a broken query string for a GET route. */
export function queryCases(model: QueryModel): fc.Arbitrary<HttpCase> {
  const request = (
    label: string,
    query: [string, string][],
    expect: Expectation = either(/./),
  ): HttpCase => ({
    label,
    method: "GET",
    path: `${model.path}?${query.map(([k, v]) => `${encodeURIComponent(k.toWellFormed())}=${encodeURIComponent(v.toWellFormed())}`).join("&")}`,
    headers: {},
    expect,
  });
  const validPairs = Object.entries(model.valid);
  const replace = (field: string, value: string) =>
    validPairs.map(([k, v]): [string, string] => [k, k === field ? value : v]);
  const fields = Object.keys(model.valid);
  return fc.oneof(
    ...fields.map((field) =>
      fc
        .oneof(
          hostileString,
          fc.string({ unit: "binary", maxLength: 40 }),
          fc.constantFrom("-1", "1e309", "0x10", "NaN", "", " "),
        )
        .map((value) => request(`odd ${field}`, replace(field, value), either(naming(field)))),
    ),
    ...fields.map((field) =>
      fc
        .array(fc.string({ maxLength: 5 }), { minLength: 2, maxLength: 4 })
        .map((values) =>
          request(
            `repeated ${field}`,
            [
              ...validPairs.filter(([k]) => k !== field),
              ...values.map((v): [string, string] => [field, v]),
            ],
            refused([400, 403], naming(field)),
          ),
        ),
    ),
    ...model.required.map((field) =>
      fc.constant(field).map(() =>
        request(
          `missing ${field}`,
          validPairs.filter(([k]) => k !== field),
          refused([400, 403], naming(field)),
        ),
      ),
    ),
    ...(model.idFields ?? []).map((field) =>
      badId.map((value) =>
        request(`bad id in ${field}`, replace(field, value), refused([400, 403], naming(field))),
      ),
    ),
    fc
      .dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 4 })
      .map((extra) => request("unknown parameters", [...validPairs, ...Object.entries(extra)])),
  );
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
