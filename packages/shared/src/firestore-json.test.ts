import assert from "node:assert/strict";
import { test } from "node:test";
import { Timestamp } from "@google-cloud/firestore";
import { firestoreJson } from "./firestore-json.ts";

test("turns timestamps into ISO strings at any depth and leaves JSON as it is", () => {
  const at = Timestamp.fromMillis(Date.UTC(2026, 11, 3, 12, 0, 0, 5));
  assert.deepEqual(
    firestoreJson({ at, nested: { list: [at, 1, "x", null, true] }, n: 2, s: "t", z: null }),
    {
      at: "2026-12-03T12:00:00.005Z",
      nested: { list: ["2026-12-03T12:00:00.005Z", 1, "x", null, true] },
      n: 2,
      s: "t",
      z: null,
    },
  );
});
