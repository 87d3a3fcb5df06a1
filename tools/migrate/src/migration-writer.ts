import type { BulkWriter, BulkWriterError, Firestore } from "@google-cloud/firestore";
import { grpcStatus, grpcStatusName } from "@syncstack/shared";

// Codes worth another attempt: contention, overload and transient outages. A set() or delete()
// is idempotent, so repeating one after a deadline is safe. BulkWriter backs off between
// attempts itself (exponentially from 1 s, jittered; the maximum after RESOURCE_EXHAUSTED).
const retryableCodes: ReadonlySet<number> = new Set([
  grpcStatus.ABORTED,
  grpcStatus.UNAVAILABLE,
  grpcStatus.RESOURCE_EXHAUSTED,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.INTERNAL,
]);

/** How the migration's BulkWriter paces and retries writes. */
export interface WriterOptions {
  /**
   * false sends as fast as the backend answers (the emulator: ~10x the default); true keeps
   * BulkWriter's 500/50/5 ramp-up, which production Firestore needs to scale a collection.
   */
  throttling: boolean;
  /** Attempts per write before it counts as failed. */
  maxAttempts: number;
  onRetry(): void;
}

/** Whether a failed write should be tried again: transient codes, up to `maxAttempts`. */
export function shouldRetryWrite(
  error: Pick<BulkWriterError, "code" | "failedAttempts">,
  maxAttempts: number,
): boolean {
  return retryableCodes.has(error.code) && error.failedAttempts < maxAttempts;
}

/** A BulkWriter with the migration's pacing and retry policy. */
export function createMigrationWriter(db: Firestore, options: WriterOptions): BulkWriter {
  const writer = db.bulkWriter({ throttling: options.throttling });
  writer.onWriteError((error) => {
    const retry = shouldRetryWrite(error, options.maxAttempts);
    if (retry) {
      options.onRetry();
      // BulkWriter queues the retry in its current batch, which only a full batch or a flush
      // sends: a retry that comes back after the last flush would wait forever.
      setImmediate(() => {
        try {
          void writer.flush();
        } catch {
          // Closed: runMigration closes only once every write has settled, so none is left.
        }
      });
    }
    return retry;
  });
  return writer;
}

/** A short reason for a failed write, for the report: the status name and message. */
export function describeWriteError(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code !== "number") return message;
  const name = grpcStatusName(code) ?? `code ${code}`;
  // gRPC messages often start with the code and its name already ("10 ABORTED: ...").
  const rest = message.startsWith(`${code} `) ? message.slice(String(code).length + 1) : message;
  return rest.startsWith(`${name}:`) ? rest : `${name}: ${rest}`;
}
