import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  DocumentReference,
  FieldValue,
  Firestore,
  GeoPoint,
  Timestamp,
  VectorValue,
} from "@google-cloud/firestore";
import { decodeValue, encodeValue } from "./cursor-codec.ts";

// A client that is never connected: references only need its project and database.
const db = new Firestore({ projectId: "demo-codec" });
after(() => db.terminate());

describe("cursor codec", () => {
  test("every Firestore value survives JSON with its type", () => {
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

  test("keeps integers and doubles apart", () => {
    assert.deepEqual(encodeValue(3n), { int: "3" });
    assert.deepEqual(encodeValue(3), { double: 3 });
    assert.equal(typeof decodeValue(db, { double: 3 }), "number");
  });
});
