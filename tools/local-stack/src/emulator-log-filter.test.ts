import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { summariseExpectedFailures } from "./emulator-log-filter.ts";

// Real output of the Firestore emulator 1.19.9: startup, then a create on an existing
// document, an update of a missing one, an update with a stale precondition and two transactions
// that timed out on their lock, each followed by its Java stack trace.
const sample = readFileSync(
  new URL("./fixtures/firestore-emulator-traces.log", import.meta.url),
  "utf8",
)
  .replace(/\n$/, "")
  .split("\n");

function filtered(lines: readonly string[]): string[] {
  const out: string[] = [];
  const log = summariseExpectedFailures((line) => out.push(line));
  for (const line of lines) log(line);
  return out;
}

test("a stack trace of a normal outcome becomes one line naming its status", () => {
  const out = filtered(sample);
  const summaries = out.filter((line) => line.includes("stack trace left out"));
  assert.deepEqual(
    summaries.map((line) => line.split(" ")[0]),
    ["ALREADY_EXISTS", "NOT_FOUND", "FAILED_PRECONDITION", "ABORTED", "ABORTED"],
  );
  assert.match(summaries[0] ?? "", /entity already exists: EntityRef\{.*path=\/c\/d\}/);
  assert.equal(out.filter((line) => /^\s+at |DatastoreException|Element \{/.test(line)).length, 0);
  assert.ok(out.length < sample.length / 4, `${out.length} of ${sample.length} lines remain`);
});

test("every other line passes unchanged and in order", () => {
  const out = filtered(sample);
  const kept = out.filter((line) => !line.includes("stack trace left out"));
  const startup = sample.slice(0, sample.indexOf("Dev App Server is now running.") + 1);
  assert.deepEqual(kept.slice(0, startup.length), startup);
  assert.ok(kept.includes("INFO: Detected HTTP/2 connection."));
  // The line after a summarised trace, and a record that is no normal outcome, stay whole.
  const after = filtered([
    ...sample,
    "Dec 03, 2026 6:10:00 PM com.google.cloud.datastore.emulator.impl.util.WrappedStreamObserver onError",
    "WARNING: Operation failed: internal error",
    "java.lang.IllegalStateException: internal error",
    "\tat com.example.Thing.run(Thing.java:1)",
    "after the trace",
  ]);
  assert.deepEqual(after.slice(-5), [
    "Dec 03, 2026 6:10:00 PM com.google.cloud.datastore.emulator.impl.util.WrappedStreamObserver onError",
    "WARNING: Operation failed: internal error",
    "java.lang.IllegalStateException: internal error",
    "\tat com.example.Thing.run(Thing.java:1)",
    "after the trace",
  ]);
});
