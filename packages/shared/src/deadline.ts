import { AppError } from "./errors.ts";

/**
 * Runs an operation against a dependency with a deadline: a timeout becomes a retryable
 * `deadline_exceeded` AppError naming the operation, never a hang. The operation gets an
 * AbortSignal it may pass on; the client library call itself may still finish in the
 * background, which is why callers must keep their effects idempotent.
 */
export async function withDeadline<T>(
  operation: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new AppError(
        "deadline_exceeded",
        `${operation} timed out after ${timeoutMs} ms`,
      );
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([run(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
