import { AppError, callerOf, describeIssues, isRetryable, userOf } from "@syncstack/shared";
import type { RequestHandler } from "express";
import { z } from "zod";
import { requestHash } from "./idempotency-record.ts";
import { idempotencyKeyOf } from "./sync-document.ts";
import { assertNoQuery, limits, parseBatchItem } from "./validation.ts";
import type { DocumentWriter, WriteRequest } from "./write-document.ts";

/** The outcome of one change of a batch. */
export type BatchItemResult =
  | { index: number; status: 200; result: unknown }
  | {
      index: number;
      status: number;
      retryable: boolean;
      error: { code: string; message: string; details?: unknown };
    };

const concurrency = 16;

/** The batch's envelope; each change is parsed on its own, so one bad change fails alone. */
const bodySchema = z.strictObject(
  { changes: z.unknown() },
  {
    error: (issue) =>
      issue.code === "invalid_type" ? "the body must be a JSON object with changes" : undefined,
  },
);

/**
 * `POST /v1/sync:batch` `{changes: [...]}`: applies up to 500 changes (merges, or deletes
 * with `op: "delete"`), each on its own with
 * its own status; a temporary failure is marked retryable, a permanent one is not. Changes to
 * the same document are applied in the order given. With an `Idempotency-Key` each change is
 * applied once under `<key>#<index>`, recorded with its write as a single write's key is, so a
 * retried batch answers the changes that were applied as the first time and applies the rest.
 */
export function syncBatch(writer: DocumentWriter): RequestHandler {
  return async (request, response) => {
    const body = bodySchema.safeParse(request.body ?? {}, { reportInput: true });
    if (!body.success) throw new AppError("invalid_argument", describeIssues(body.error));
    const { changes } = body.data;
    if (!Array.isArray(changes))
      throw new AppError("invalid_argument", "changes must be an array of changes");
    if (changes.length === 0) throw new AppError("invalid_argument", "changes must not be empty");
    if (changes.length > limits.batchSize) {
      throw new AppError(
        "invalid_argument",
        `changes has ${changes.length} items; at most ${limits.batchSize} are allowed`,
      );
    }
    assertNoQuery(request.query);
    const key = idempotencyKeyOf(request);
    const batchHash = key === undefined ? undefined : requestHash(request.body);
    const results: BatchItemResult[] = new Array(changes.length);
    const groups = new Map<string, number[]>();
    changes.forEach((raw, index) => {
      const body = raw as { collection?: unknown; document?: unknown };
      const key = JSON.stringify([body?.collection, body?.document]);
      groups.set(key, [...(groups.get(key) ?? []), index]);
    });

    const caller = callerOf(userOf(request));
    const apply = async (index: number) => {
      try {
        const change = parseBatchItem(changes[index]);
        const write: WriteRequest =
          "op" in change
            ? { kind: "delete", collection: change.collection, document: change.document }
            : { kind: "merge", change };
        const result = await writer.write(write, {
          caller,
          expectedVersion: change.expected_version,
          // The item's hash covers the whole batch: another batch under the key is a 422.
          idempotency:
            key === undefined
              ? undefined
              : { key: `${key}#${index}`, requestHash: requestHash([batchHash, index]) },
        });
        results[index] = {
          index,
          status: 200,
          result: "replayed" in result ? result.body : result,
        };
      } catch (error) {
        const appError =
          error instanceof AppError
            ? error
            : new AppError("internal", "internal error", { cause: error });
        results[index] = {
          index,
          status: appError.status,
          retryable: isRetryable(error),
          error: {
            code: appError.code,
            message: appError.message,
            ...(appError.details ? { details: appError.details } : {}),
          },
        };
      }
    };
    const queue = [...groups.values()];
    await Promise.all(
      Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
        for (let group = queue.shift(); group; group = queue.shift()) {
          for (const index of group) await apply(index);
        }
      }),
    );
    const failed = results.filter((item) => item.status !== 200).length;
    response.json({ success: failed === 0, applied: results.length - failed, failed, results });
  };
}
