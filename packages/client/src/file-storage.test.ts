import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { FileStorage } from "./file-storage.ts";

const path = () => join(mkdtempSync(join(tmpdir(), "syncstack-client-")), "state.jsonl");

describe("FileStorage", () => {
  test("keeps what was written across a reopen, a write's operations together", async () => {
    const file = path();
    const first = new FileStorage(file);
    await first.write([
      { type: "set", key: "outbox/1", value: { a: 1 } },
      { type: "set", key: "outbox/2", value: { b: 2 } },
      { type: "set", key: "cache/x", value: "kept" },
    ]);
    await first.write([{ type: "delete", key: "outbox/1" }]);
    await first.close();
    const second = new FileStorage(file);
    assert.deepEqual(await second.entries("outbox/"), [["outbox/2", { b: 2 }]]);
    assert.deepEqual(await second.entries("cache/"), [["cache/x", "kept"]]);
  });

  test("ignores a torn last line, as a crash mid-append leaves it", async () => {
    const file = path();
    const first = new FileStorage(file);
    await first.write([{ type: "set", key: "k/1", value: 1 }]);
    await first.close();
    appendFileSync(file, '{"ops":[{"type":"set","key":"k/2","val');
    assert.deepEqual(await new FileStorage(file).entries("k/"), [["k/1", 1]]);
  });

  test("compacts the log into one line by an atomic rename", async () => {
    const file = path();
    const storage = new FileStorage(file, { compactAfter: 5 });
    for (let n = 0; n < 12; n++)
      await storage.write([{ type: "set", key: `k/${n % 3}`, value: n }]);
    await storage.close();
    assert.ok(readFileSync(file, "utf8").trim().split("\n").length <= 6);
    assert.deepEqual(await new FileStorage(file).entries("k/"), [
      ["k/0", 9],
      ["k/1", 10],
      ["k/2", 11],
    ]);
  });
});
