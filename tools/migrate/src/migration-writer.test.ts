import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { grpcStatus } from "@syncstack/shared";
import { describeWriteError, shouldRetryWrite } from "./migration-writer.ts";

describe("write retry policy", () => {
  test("retries contention and transient errors until the attempts run out", () => {
    const { ABORTED, UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL } = grpcStatus;
    for (const code of [ABORTED, UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED, INTERNAL]) {
      assert.equal(shouldRetryWrite({ code, failedAttempts: 1 }, 10), true, `code ${code}`);
      assert.equal(shouldRetryWrite({ code, failedAttempts: 10 }, 10), false, `code ${code}`);
    }
  });

  test("never retries errors that another attempt cannot fix", () => {
    const { INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED } =
      grpcStatus;
    for (const code of [
      INVALID_ARGUMENT,
      NOT_FOUND,
      PERMISSION_DENIED,
      FAILED_PRECONDITION,
      UNAUTHENTICATED,
    ])
      assert.equal(shouldRetryWrite({ code, failedAttempts: 1 }, 10), false);
  });

  test("names the status in a failure's reason", () => {
    assert.equal(
      describeWriteError(Object.assign(new Error("lock timeout"), { code: grpcStatus.ABORTED })),
      "ABORTED: lock timeout",
    );
    assert.equal(
      describeWriteError(
        Object.assign(new Error("7 PERMISSION_DENIED: no"), { code: grpcStatus.PERMISSION_DENIED }),
      ),
      "PERMISSION_DENIED: no",
    );
    assert.equal(describeWriteError(new Error("plain")), "plain");
  });
});
