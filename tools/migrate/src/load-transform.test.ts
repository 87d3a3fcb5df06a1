import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadTransform } from "./load-transform.ts";

const fixtures = join(import.meta.dirname, "fixtures");

describe("loadTransform", () => {
  test("loads a TypeScript module's named transform, relative to the base directory", async () => {
    const transform = await loadTransform("add-version.ts", fixtures);
    assert.deepEqual(await transform({ a: 1 }, "x"), {
      a: 1,
      schema_version: 2,
      migrated_from: "x",
    });
  });

  test("loads a JavaScript module's default export", async () => {
    const transform = await loadTransform(join(fixtures, "default-export.mjs"), "/");
    assert.deepEqual(await transform({ a: 1 }, "x"), { a: 1, js: true, id: "x" });
  });

  test("a module that cannot serve is a bad argument with a clear message", async () => {
    const bad = { name: "AppError", code: "invalid_argument" };
    await assert.rejects(loadTransform("missing.ts", fixtures), {
      ...bad,
      message: "--transform missing.ts: no such file",
    });
    await assert.rejects(loadTransform("not-a-function.ts", fixtures), {
      ...bad,
      message: /exports no function named transform/,
    });
    await assert.rejects(loadTransform("throws-on-load.ts", fixtures), {
      ...bad,
      message: /does not load: this module cannot be loaded/,
    });
  });
});
