import {
  DocumentReference,
  FieldValue,
  type Firestore,
  GeoPoint,
  Timestamp,
  VectorValue,
} from "@google-cloud/firestore";

/*
 * One JSON form of Firestore values, for backup files and migration checkpoints alike. It is
 * type-faithful: what Firestore's Node client reads (with `useBigInt: true`) decodes to what the
 * client writes back as the same type. The rules:
 * - null, booleans, strings and finite doubles are plain JSON; arrays are JSON arrays and maps
 *   JSON objects, their values encoded by the same rules at any depth.
 * - Everything JSON cannot say exactly is an object tagged by `__t`: 64-bit integers (`int`,
 *   as a decimal string), NaN, the infinities and negative zero, timestamps (seconds and
 *   nanoseconds), geo points, references (the document path, rebuilt on the target database),
 *   bytes (base64) and vectors.
 * - A user map that itself has a `__t` key is wrapped (`{"__t": "map", "v": ...}`), so no map
 *   is ever read as a tag.
 * - Any other value (undefined, a Map, a class instance) is refused, never written as
 *   something else; so is an unknown tag when decoding.
 */

/** The key that marks a JSON object as an encoded Firestore value rather than a map. */
export const tagKey = "__t";

/** A Firestore value in JSON form: plain JSON where that is exact, a tagged object otherwise. */
export type EncodedValue =
  | null
  | boolean
  | string
  | number
  | EncodedValue[]
  | { [key: string]: EncodedValue };

/** A document's fields in JSON form; the top level is always a map, never tagged. */
export type EncodedFields = { [key: string]: EncodedValue };

function encodeNumber(value: number): EncodedValue {
  if (Number.isNaN(value)) return { [tagKey]: "nan" };
  if (value === Number.POSITIVE_INFINITY) return { [tagKey]: "inf" };
  if (value === Number.NEGATIVE_INFINITY) return { [tagKey]: "-inf" };
  // JSON has no negative zero; Firestore keeps it as a distinct double.
  if (Object.is(value, -0)) return { [tagKey]: "-0" };
  return value;
}

/** Encodes one value as Firestore's Node client returns it (read with `useBigInt: true`). */
export function encodeValue(value: unknown): EncodedValue {
  if (value === null) return null;
  switch (typeof value) {
    case "boolean":
    case "string":
      return value;
    case "number":
      return encodeNumber(value);
    case "bigint":
      return { [tagKey]: "int", v: value.toString() };
  }
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value instanceof Timestamp) return { [tagKey]: "ts", s: value.seconds, n: value.nanoseconds };
  if (value instanceof GeoPoint)
    return { [tagKey]: "geo", lat: value.latitude, lng: value.longitude };
  if (value instanceof DocumentReference) return { [tagKey]: "ref", path: value.path };
  if (value instanceof Uint8Array) {
    return { [tagKey]: "bytes", b64: Buffer.from(value).toString("base64") };
  }
  if (value instanceof VectorValue) return { [tagKey]: "vector", v: value.toArray() };
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const fields = encodeFields(value as Record<string, unknown>);
    // A user map that happens to use the tag key is wrapped so it never reads as a tag.
    return tagKey in fields ? { [tagKey]: "map", v: fields } : fields;
  }
  throw new Error(`cannot encode a value of type ${describe(value)}`);
}

/** Encodes a document's fields. */
export function encodeFields(fields: Record<string, unknown>): EncodedFields {
  const encoded: EncodedFields = {};
  for (const [key, value] of Object.entries(fields)) encoded[key] = encodeValue(value);
  return encoded;
}

/** Decodes one value into what Firestore's Node client writes as the same type. */
export function decodeValue(db: Firestore, value: EncodedValue): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => decodeValue(db, item));
  const tag = value[tagKey];
  if (tag === undefined) return decodeFields(db, value);
  switch (tag) {
    case "nan":
      return Number.NaN;
    case "inf":
      return Number.POSITIVE_INFINITY;
    case "-inf":
      return Number.NEGATIVE_INFINITY;
    case "-0":
      return -0;
    case "int":
      return BigInt(String(value.v));
    case "ts":
      return new Timestamp(Number(value.s), Number(value.n));
    case "geo":
      return new GeoPoint(Number(value.lat), Number(value.lng));
    case "ref":
      return db.doc(String(value.path));
    case "bytes":
      return Buffer.from(String(value.b64), "base64");
    case "vector":
      return FieldValue.vector((value.v as number[]).map(Number));
    case "map":
      return decodeFields(db, value.v as EncodedFields);
  }
  throw new Error(`unknown encoded type ${JSON.stringify(tag)}`);
}

/** Decodes a document's fields. */
export function decodeFields(db: Firestore, fields: EncodedFields): Record<string, unknown> {
  const decoded: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) decoded[key] = decodeValue(db, value);
  return decoded;
}

function describe(value: unknown): string {
  if (typeof value !== "object" || value === null) return typeof value;
  return value.constructor?.name ?? "object";
}
