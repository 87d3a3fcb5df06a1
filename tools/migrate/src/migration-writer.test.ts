import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { describeWriteError, shouldRetryWrite } from "./migration-writer.ts";

describe("write retry policy", () => {
  test("retries contention and transient errors until the attempts run out", () => {
    for (const code of [10, 14, 8, 4, 13]) {
      assert.equal(shouldRetryWrite({ code, failedAttempts: 1 }, 10), true, `code ${code}`);
      assert.equal(shouldRetryWrite({ code, failedAttempts: 10 }, 10), false, `code ${code}`);
    }
  });

  test("never retries errors that another attempt cannot fix", () => {
    for (const code of [3, 5, 7, 9, 16])
      assert.equal(shouldRetryWrite({ code, failedAttempts: 1 }, 10), false);
  });

  test("names the status in a failure's reason", () => {
    assert.equal(
      describeWriteError(Object.assign(new Error("lock timeout"), { code: 10 })),
      "ABORTED: lock timeout",
    );
    assert.equal(
      describeWriteError(Object.assign(new Error("7 PERMISSION_DENIED: no"), { code: 7 })),
      "PERMISSION_DENIED: no",
    );
    assert.equal(describeWriteError(new Error("plain")), "plain");
  });
});
