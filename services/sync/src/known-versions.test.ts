import assert from "node:assert/strict";
import { test } from "node:test";
import { KnownVersions } from "./known-versions.ts";

test("keeps at most its capacity, evicting the least recently used first", () => {
  const known = new KnownVersions(10);
  for (let i = 0; i < 10; i++) known.set(`d${i}`, { version: i });
  known.get("d0"); // d0 is now the most recent
  known.set("d10", { version: 10 });
  assert.equal(known.get("d1"), undefined, "the oldest went first");
  assert.deepEqual(known.get("d0"), { version: 0 }, "a recently read entry stays");
  assert.deepEqual(known.get("d10"), { version: 10 });
  for (let i = 11; i < 1_000; i++) known.set(`d${i}`, { version: i });
  let kept = 0;
  for (let i = 0; i < 1_000; i++) if (known.get(`d${i}`)) kept++;
  assert.ok(kept <= 10 && kept >= 9, `kept ${kept}`);
  assert.deepEqual(known.get("d999"), { version: 999 });
});
