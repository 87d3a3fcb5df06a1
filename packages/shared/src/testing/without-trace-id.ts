/**
 * A JSON answer without its error's `trace_id` (a new one on every request), so that tests
 * compare the rest of an error exactly; other answers are returned as they are.
 */
export function withoutTraceId<T>(body: T): T {
  const error = (body as { error?: unknown } | null)?.error;
  if (typeof error !== "object" || error === null || !("trace_id" in error)) return body;
  const { trace_id: _traceId, ...rest } = error as Record<string, unknown>;
  return { ...(body as object), error: rest } as T;
}
