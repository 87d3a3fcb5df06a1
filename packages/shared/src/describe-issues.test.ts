import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { describeIssues } from "./describe-issues.ts";

const schema = z.strictObject({
  name: z.string(),
  limit: z.number({ error: "limit must be a number" }).optional(),
  nested: z.strictObject({ a: z.number() }).optional(),
});

function problems(input: unknown, what?: string): string {
  const parsed = schema.safeParse(input, { reportInput: true });
  assert.equal(parsed.success, false);
  return describeIssues((parsed as { error: z.ZodError }).error, what);
}

test("names a missing field as required and prefixes a message that does not name its field", () => {
  assert.equal(problems({}), "name is required");
  assert.equal(problems({ name: "n", limit: "x" }), "limit must be a number");
  assert.match(problems({ name: 5 }), /^name: /);
});

test("names fields the schema does not define, at any depth, as a body's or a query's", () => {
  assert.equal(problems({ name: "n", colour: 1 }), "unknown field: colour");
  assert.equal(
    problems({ name: "n", a: 1, b: 2 }, "query parameter"),
    "unknown query parameters: a, b",
  );
  assert.equal(problems({ name: "n", nested: { a: 1, z: 2 } }), "unknown field in nested: z");
});
