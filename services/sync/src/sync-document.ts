import { AppError, callerOf, userOf } from "@syncstack/shared";
import type { Request, RequestHandler, Response } from "express";
import { type ReplayedResult, requestHash } from "./idempotency-record.ts";
import { assertNoQuery, parseChange } from "./validation.ts";
import type { DocumentWriter, SyncResult } from "./write-document.ts";

/** The expected version from `If-Match` (a number, optionally quoted) or the body. */
export function expectedVersionOf(
  request: Request,
  bodyVersion: number | undefined,
): number | undefined {
  const header = request.headers["if-match"];
  if (header === undefined) return bodyVersion;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(header);
  if (!match || !Number.isSafeInteger(Number(match[1])))
    throw new AppError(
      "invalid_argument",
      'If-Match must be the expected version number, e.g. "3"',
    );
  const version = Number(match[1]);
  if (bodyVersion !== undefined && bodyVersion !== version) {
    throw new AppError("invalid_argument", "If-Match and expected_version disagree");
  }
  return version;
}

/** Reads an Idempotency-Key header: 1-255 visible ASCII characters. */
export function idempotencyKeyOf(request: Request): string | undefined {
  const key = request.headers["idempotency-key"];
  if (key === undefined) return undefined;
  if (typeof key !== "string" || !/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw new AppError(
      "invalid_argument",
      "Idempotency-Key must be 1-255 visible ASCII characters",
    );
  }
  return key;
}

/** `POST /v1/sync`: merge-writes one document and publishes its change event. */
export function syncDocument(writer: DocumentWriter): RequestHandler {
  return async (request, response) => {
    assertNoQuery(request.query);
    const change = parseChange(request.body);
    const key = idempotencyKeyOf(request);
    const result = await writer.write(
      { kind: "merge", change },
      {
        caller: callerOf(userOf(request)),
        expectedVersion: expectedVersionOf(request, change.expected_version),
        idempotency: key ? { key, requestHash: requestHash(request.body) } : undefined,
      },
    );
    sendWriteResult(response, result);
  };
}

/** Answers a write with its version as a strong ETag; a replay gives the first answer again. */
export function sendWriteResult(response: Response, result: SyncResult | ReplayedResult): void {
  if ("replayed" in result) {
    // The same answer as the first, strong ETag included.
    const { version } = result.body as { version?: unknown };
    if (typeof version === "number") response.set("ETag", `"${version}"`);
    response.status(result.status).set("Idempotent-Replayed", "true").json(result.body);
    return;
  }
  response.set("ETag", `"${result.version}"`).json(result);
}
