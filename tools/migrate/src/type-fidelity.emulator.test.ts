import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import {
  type DocumentData,
  DocumentReference,
  FieldValue,
  Firestore,
  GeoPoint,
  Timestamp,
  VectorValue,
} from "@google-cloud/firestore";
import { emulatorHosts, resetFirestore, testProjectId } from "@syncstack/shared/testing";
import { loadTransform } from "./load-transform.ts";
import { captureIo, temporaryDir, testOptions } from "./migration-test-setup.ts";
import { runMigration } from "./run-migration.ts";

const projectId = testProjectId();
let db: Firestore;
let dir: string;

// One field of every type Firestore stores, some at the edges of their range.
function everyType(db: Firestore): DocumentData {
  return {
    text: "héllo, wörld ✓",
    empty_text: "",
    int: 42n,
    negative_int: -7n,
    big_int: 2n ** 62n + 1n,
    double: 1.5,
    tiny: 5e-324,
    nan: Number.NaN,
    infinity: Number.POSITIVE_INFINITY,
    negative_infinity: Number.NEGATIVE_INFINITY,
    negative_zero: -0,
    yes: true,
    no: false,
    nothing: null,
    timestamp: new Timestamp(1_700_000_000, 123_456_789),
    old_timestamp: new Timestamp(-62_135_596_800, 1),
    geo: new GeoPoint(48.8584, 2.2945),
    ref: db.doc("users/u1/notes/n1"),
    bytes: Buffer.from([0, 1, 2, 254, 255]),
    vector: FieldValue.vector([0.5, -1, 3]),
    array: [1n, "two", 3.25, null, new Timestamp(1, 2), { inner: [true, {}] }],
    map: { nested: { deeper: { ts: new Timestamp(2, 3), list: [new GeoPoint(1, 2)] } } },
    empty_map: {},
    empty_array: [],
  };
}

before(() => {
  db = new Firestore({ projectId, host: emulatorHosts().firestore, ssl: false, useBigInt: true });
});
after(() => db.terminate());
beforeEach(async () => {
  await resetFirestore(projectId);
  dir = await temporaryDir();
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("type fidelity", () => {
  for (const withTransform of [false, true]) {
    test(`keeps every Firestore type field by field${withTransform ? " through a transform" : ""}`, async () => {
      await db.collection("src").doc("all-types").set(everyType(db));
      // Firestore keeps microseconds: the copy must equal the source as stored.
      const original = (await db.collection("src").doc("all-types").get()).data() ?? {};
      const transform = withTransform
        ? await loadTransform(join(import.meta.dirname, "fixtures", "add-version.ts"), dir)
        : undefined;
      const result = await runMigration(
        db,
        testOptions(dir, { from: "src", to: "dst", transform }),
        captureIo(),
      );
      assert.equal(result.counts.written, 1);

      const copy = (await db.collection("dst").doc("all-types").get()).data() ?? {};
      const expectedKeys = Object.keys(original).concat(
        withTransform ? ["schema_version", "migrated_from"] : [],
      );
      assert.deepEqual(Object.keys(copy).sort(), expectedKeys.sort());
      assertSameValue(copy.timestamp, original.timestamp, "timestamp");
      assert.ok(copy.timestamp instanceof Timestamp);
      assert.equal(copy.timestamp.nanoseconds, 123_456_000);
      assert.ok(
        copy.old_timestamp instanceof Timestamp &&
          copy.old_timestamp.isEqual(original.old_timestamp),
      );
      assert.ok(copy.geo instanceof GeoPoint && copy.geo.isEqual(original.geo));
      assert.ok(copy.ref instanceof DocumentReference && copy.ref.isEqual(original.ref));
      assert.ok(copy.bytes instanceof Uint8Array);
      assert.deepEqual([...copy.bytes], [0, 1, 2, 254, 255]);
      assert.ok(copy.vector instanceof VectorValue && copy.vector.isEqual(original.vector));
      // With useBigInt, integers read back as bigint and doubles as number: types are kept.
      assert.equal(copy.int, 42n);
      assert.equal(copy.negative_int, -7n);
      assert.equal(copy.big_int, 2n ** 62n + 1n);
      assert.equal(copy.double, 1.5);
      assert.equal(copy.tiny, 5e-324);
      assert.ok(Number.isNaN(copy.nan));
      assert.equal(copy.infinity, Number.POSITIVE_INFINITY);
      assert.equal(copy.negative_infinity, Number.NEGATIVE_INFINITY);
      assert.ok(Object.is(copy.negative_zero, -0));
      assert.equal(copy.nothing, null);
      for (const key of ["text", "empty_text", "yes", "no", "empty_map", "empty_array"]) {
        assert.deepEqual(copy[key], original[key], key);
      }
      assertSameValue(copy.array, original.array, "array");
      assertSameValue(copy.map, original.map, "map");
    });
  }
});

/** Deep equality that compares Firestore's classes with isEqual and checks their class. */
function assertSameValue(actual: unknown, expected: unknown, path: string): void {
  if (expected instanceof Timestamp || expected instanceof GeoPoint) {
    assert.ok(actual instanceof expected.constructor, `${path} is a ${expected.constructor.name}`);
    assert.ok((expected as Timestamp).isEqual(actual as Timestamp), `${path} equals`);
  } else if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is an array`);
    assert.equal(actual.length, expected.length, `${path} length`);
    for (const [index, item] of expected.entries()) {
      assertSameValue(actual[index], item, `${path}[${index}]`);
    }
  } else if (typeof expected === "object" && expected !== null) {
    assert.equal(typeof actual, "object", `${path} is a map`);
    const actualMap = actual as Record<string, unknown>;
    assert.deepEqual(Object.keys(actualMap).sort(), Object.keys(expected).sort(), `${path} keys`);
    for (const [key, value] of Object.entries(expected))
      assertSameValue(actualMap[key], value, `${path}.${key}`);
  } else {
    assert.equal(actual, expected, path);
  }
}
