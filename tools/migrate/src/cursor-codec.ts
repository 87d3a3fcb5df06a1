import {
  DocumentReference,
  FieldValue,
  type Firestore,
  GeoPoint,
  Timestamp,
  VectorValue,
} from "@google-cloud/firestore";

/** A Firestore value as JSON with its type kept, so a query cursor survives in a checkpoint. */
export type EncodedValue =
  | null
  | boolean
  | string
  | { int: string }
  | { double: number | string }
  | { timestamp: [number, number] }
  | { geo: [number, number] }
  | { ref: string }
  | { bytes: string }
  | { vector: number[] }
  | { array: EncodedValue[] }
  | { map: Record<string, EncodedValue> };

/** Encodes a value read from Firestore (with `useBigInt`) as tagged JSON. */
export function encodeValue(value: unknown): EncodedValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "bigint") return { int: value.toString() };
  // JSON has no NaN, Infinity or -0: those travel as strings.
  if (typeof value === "number") {
    if (Object.is(value, -0)) return { double: "-0" };
    return { double: Number.isFinite(value) ? value : String(value) };
  }
  if (value instanceof Timestamp) return { timestamp: [value.seconds, value.nanoseconds] };
  if (value instanceof GeoPoint) return { geo: [value.latitude, value.longitude] };
  if (value instanceof DocumentReference) return { ref: value.path };
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString("base64") };
  if (value instanceof VectorValue) return { vector: value.toArray() };
  if (Array.isArray(value)) return { array: value.map(encodeValue) };
  if (typeof value === "object") {
    const map: Record<string, EncodedValue> = {};
    for (const [key, field] of Object.entries(value)) map[key] = encodeValue(field);
    return { map };
  }
  throw new Error(`cannot keep a ${typeof value} in a checkpoint`);
}

/** The value `encodeValue` was given; references are rebuilt on `db`. */
export function decodeValue(db: Firestore, encoded: EncodedValue): unknown {
  if (encoded === null || typeof encoded !== "object") return encoded;
  if ("int" in encoded) return BigInt(encoded.int);
  if ("double" in encoded) return Number(encoded.double);
  if ("timestamp" in encoded) return new Timestamp(...encoded.timestamp);
  if ("geo" in encoded) return new GeoPoint(...encoded.geo);
  if ("ref" in encoded) return db.doc(encoded.ref);
  if ("bytes" in encoded) return Buffer.from(encoded.bytes, "base64");
  if ("vector" in encoded) return FieldValue.vector(encoded.vector);
  if ("array" in encoded) return encoded.array.map((item) => decodeValue(db, item));
  const map: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(encoded.map)) map[key] = decodeValue(db, field);
  return map;
}
