import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isAlreadyExists } from "./errors.ts";
import { grpcCodeOf, grpcStatus, grpcStatusName, preconditionFailures } from "./grpc-status.ts";

describe("gRPC status codes", () => {
  test("names and numbers match gRPC's table", () => {
    assert.equal(grpcStatus.NOT_FOUND, 5);
    assert.equal(grpcStatus.ALREADY_EXISTS, 6);
    assert.equal(grpcStatus.FAILED_PRECONDITION, 9);
    assert.equal(grpcStatus.ABORTED, 10);
    assert.equal(grpcStatus.UNAUTHENTICATED, 16);
    assert.equal(grpcStatusName(14), "UNAVAILABLE");
    assert.equal(grpcStatusName(99), undefined);
  });

  test("reads the code of a client error and ignores HTTP statuses and strings", () => {
    assert.equal(grpcCodeOf(Object.assign(new Error("6 ALREADY_EXISTS"), { code: 6 })), 6);
    assert.equal(grpcCodeOf(Object.assign(new Error("gcs"), { code: 404 })), undefined);
    assert.equal(grpcCodeOf(Object.assign(new Error("fs"), { code: "ENOENT" })), undefined);
    assert.equal(grpcCodeOf(undefined), undefined);
  });

  test("a failed write precondition is NOT_FOUND, ALREADY_EXISTS or FAILED_PRECONDITION only", () => {
    assert.deepEqual(
      [...preconditionFailures].sort((a, b) => a - b),
      [grpcStatus.NOT_FOUND, grpcStatus.ALREADY_EXISTS, grpcStatus.FAILED_PRECONDITION],
    );
    assert.equal(preconditionFailures.has(grpcStatus.ABORTED), false);
  });

  test("isAlreadyExists is true for ALREADY_EXISTS and nothing else", () => {
    assert.equal(isAlreadyExists({ code: grpcStatus.ALREADY_EXISTS }), true);
    assert.equal(isAlreadyExists({ code: grpcStatus.FAILED_PRECONDITION }), false);
    assert.equal(isAlreadyExists(new Error("no code")), false);
  });
});
