import { grpcCodeOf, grpcStatus } from "./grpc-status.ts";

/** The codes an AppError can carry, each with the HTTP status it maps to. */
export const errorStatus = {
  invalid_argument: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  internal: 500,
  unavailable: 503,
  deadline_exceeded: 504,
} as const;

export type ErrorCode = keyof typeof errorStatus;

const retryableCodes: ReadonlySet<ErrorCode> = new Set(["unavailable", "deadline_exceeded"]);

export interface AppErrorOptions {
  cause?: unknown;
  /** Safe, structured facts for the client (e.g. the offending field). */
  details?: Record<string, unknown>;
  /** Overrides the default for the code (only unavailable and deadline_exceeded retry). */
  retryable?: boolean;
}

/** The one error type: a code, a message safe to show a client, and the cause kept for logs. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.details = options.details;
    this.retryable = options.retryable ?? retryableCodes.has(code);
  }

  get status(): number {
    return errorStatus[this.code];
  }
}

/** True when trying the same thing again may succeed: AppErrors say so, unknown errors are assumed transient. */
export function isRetryable(error: unknown): boolean {
  return error instanceof AppError ? error.retryable : true;
}

/** True for the gRPC ALREADY_EXISTS a Firestore `create` or a Pub/Sub resource creation fails with. */
export function isAlreadyExists(error: unknown): boolean {
  return grpcCodeOf(error) === grpcStatus.ALREADY_EXISTS;
}

/** A short description of an error for logs, following the cause chain. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(" <- ");
}
