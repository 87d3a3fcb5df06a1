import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  DocumentReference,
  FieldValue,
  Firestore,
  GeoPoint,
  Timestamp,
  VectorValue,
} from "@google-cloud/firestore";
import { decodeFields, decodeValue, encodeFields, encodeValue } from "./firestore-codec.ts";

// Never connects: references and values are built locally.
const db = new Firestore({ projectId: "demo-codec", host: "127.0.0.1:1", ssl: false });

/** Encodes, goes through JSON text as the backup file does, and decodes. */
function roundTrip(value: unknown): unknown {
  return decodeValue(db, JSON.parse(JSON.stringify(encodeValue(value))));
}

describe("firestore codec", () => {
  test("plain JSON values stay plain", () => {
    for (const value of [
      null,
      true,
      false,
      "",
      "text ✓",
      1.5,
      -2.25e-300,
      1.7976931348623157e308,
    ]) {
      assert.deepEqual(encodeValue(value), value);
      assert.equal(roundTrip(value), value);
    }
  });

  test("special doubles keep their identity: NaN, infinities, negative zero", () => {
    assert.ok(Number.isNaN(roundTrip(Number.NaN)));
    assert.equal(roundTrip(Number.POSITIVE_INFINITY), Number.POSITIVE_INFINITY);
    assert.equal(roundTrip(Number.NEGATIVE_INFINITY), Number.NEGATIVE_INFINITY);
    assert.ok(Object.is(roundTrip(-0), -0));
    assert.ok(Object.is(roundTrip(0), 0));
  });

  test("64-bit integers are exact beyond 2^53", () => {
    for (const value of [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 9007199254740993n]) {
      assert.equal(roundTrip(value), value);
    }
  });

  test("timestamps keep nanoseconds, including before 1970", () => {
    for (const ts of [new Timestamp(1_700_000_000, 123_456_789), new Timestamp(-86_400, 1)]) {
      const back = roundTrip(ts) as Timestamp;
      assert.ok(back instanceof Timestamp);
      assert.deepEqual([back.seconds, back.nanoseconds], [ts.seconds, ts.nanoseconds]);
    }
  });

  test("geo points, references, bytes and vectors come back as their classes", () => {
    const geo = roundTrip(new GeoPoint(-33.8688, 151.2093)) as GeoPoint;
    assert.ok(geo instanceof GeoPoint && geo.isEqual(new GeoPoint(-33.8688, 151.2093)));
    const ref = roundTrip(db.doc("users/u1/notes/n 1")) as DocumentReference;
    assert.ok(ref instanceof DocumentReference);
    assert.equal(ref.path, "users/u1/notes/n 1");
    const bytes = Buffer.from([0, 255, 1, 128, 10, 13]);
    const back = roundTrip(bytes) as Buffer;
    assert.ok(Buffer.isBuffer(back) && back.equals(bytes));
    const vector = FieldValue.vector([0.5, -1, 3e-10]);
    const vectorBack = roundTrip(vector) as VectorValue;
    assert.ok(vectorBack instanceof VectorValue && vectorBack.isEqual(vector));
  });

  test("nested maps and arrays keep every type inside them", () => {
    const fields = {
      list: [1n, Number.NaN, [new Timestamp(5, 6)], { at: new GeoPoint(1, 2) }, null],
      map: { deeper: { bytes: Buffer.from("hi"), ref: db.doc("a/b"), empty: {} }, none: null },
      empty: [],
    };
    const back = decodeFields(db, JSON.parse(JSON.stringify(encodeFields(fields))));
    assert.deepEqual(back, fields);
  });

  test("a user map that uses the tag key is escaped, at any depth, and the top level needs none", () => {
    const fields = {
      __t: "ts",
      looks: { __t: "ts", s: 1, n: 2 },
      inner: [{ __t: "map", v: { __t: "nan" } }],
    };
    const encoded = JSON.parse(JSON.stringify(encodeFields(fields)));
    assert.deepEqual(decodeFields(db, encoded), fields);
  });

  test("an unknown class or tag is refused, never written as something else", () => {
    assert.throws(() => encodeValue(new Map()), /cannot encode a value of type Map/);
    assert.throws(() => encodeValue(undefined), /cannot encode a value of type undefined/);
    assert.throws(() => decodeValue(db, { __t: "mystery" }), /unknown encoded type "mystery"/);
  });
  test("every Firestore value survives JSON with its type (a migration cursor's values)", () => {
    const values: unknown[] = [
      null,
      true,
      "text",
      42n,
      2n ** 62n,
      1.5,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      -0,
      new Timestamp(1_700_000_000, 123_000),
      new GeoPoint(1.5, -2),
      db.doc("a/b"),
      Buffer.from([0, 255]),
      FieldValue.vector([1, 2]),
      [1n, "x", { y: [new Timestamp(1, 2)] }],
      { nested: { deep: 3n } },
    ];
    for (const value of values) {
      const decoded = decodeValue(db, JSON.parse(JSON.stringify(encodeValue(value))));
      if (value instanceof Timestamp || value instanceof GeoPoint || value instanceof VectorValue) {
        assert.ok(value.isEqual(decoded as never), String(value));
      } else if (value instanceof DocumentReference) {
        assert.ok(decoded instanceof DocumentReference && decoded.isEqual(value));
      } else if (typeof value === "number" && Number.isNaN(value)) {
        assert.ok(Number.isNaN(decoded));
      } else if (typeof value === "number") {
        assert.ok(Object.is(decoded, value), String(value));
      } else if (value instanceof Buffer) {
        assert.deepEqual([...(decoded as Buffer)], [...value]);
      } else if (Array.isArray(value)) {
        assert.equal((decoded as unknown[])[0], 1n);
        assert.ok(
          ((decoded as [unknown, unknown, { y: Timestamp[] }])[2].y[0] as Timestamp).isEqual(
            new Timestamp(1, 2),
          ),
        );
      } else {
        assert.deepEqual(decoded, value);
      }
    }
  });

  // Rules that differ from the migrate tool's former cursor encoding ({double}, {int},
  // {array}, {map}, ... wrappers), which this codec replaces.
  test("finite doubles are plain JSON numbers and integers are tagged: the two stay apart", () => {
    assert.deepEqual(encodeValue(3), 3);
    assert.deepEqual(encodeValue(3n), { __t: "int", v: "3" });
    assert.equal(typeof roundTrip(3), "number");
    assert.equal(typeof roundTrip(3n), "bigint");
  });

  test("NaN, the infinities and negative zero are tags, not strings in a double", () => {
    assert.deepEqual(
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0].map(encodeValue),
      [{ __t: "nan" }, { __t: "inf" }, { __t: "-inf" }, { __t: "-0" }],
    );
  });

  test("arrays and maps are plain JSON arrays and objects, at any depth", () => {
    assert.deepEqual(encodeValue([1.5, "x", { y: [true, null] }]), [1.5, "x", { y: [true, null] }]);
  });

  test("a map that looks like another encoding's wrapper stays a map", () => {
    const fields = { a: { int: "3" }, b: { double: "NaN" }, c: { map: {} }, d: { array: [] } };
    assert.deepEqual(encodeFields(fields), fields);
    assert.deepEqual(decodeFields(db, JSON.parse(JSON.stringify(encodeFields(fields)))), fields);
  });

  test("an object that is not a plain map (a class instance) is refused, not copied as a map", () => {
    class Money {
      readonly cents: number;
      constructor(cents: number) {
        this.cents = cents;
      }
    }
    assert.throws(() => encodeValue(new Money(5)), /cannot encode a value of type Money/);
    assert.throws(() => encodeValue({ nested: new Set([1]) }), /cannot encode a value of type Set/);
  });

  test("vectors decode to numbers even from a hand-edited file", () => {
    const vector = decodeValue(db, { __t: "vector", v: ["1.5", 2] }) as VectorValue;
    assert.deepEqual(vector.toArray(), [1.5, 2]);
  });
});
