/**
 * gRPC status codes, as the Firestore and Pub/Sub clients put them in an error's `code`
 * (https://grpc.github.io/grpc/core/md_doc_statuscodes.html).
 */
export const grpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** A gRPC status name, e.g. `NOT_FOUND`. */
export type GrpcStatusName = keyof typeof grpcStatus;
/** A gRPC status code, 0-16. */
export type GrpcStatusCode = (typeof grpcStatus)[GrpcStatusName];

const namesByCode = new Map<number, GrpcStatusName>(
  Object.entries(grpcStatus).map(([name, code]) => [code, name as GrpcStatusName]),
);

/** The gRPC status code an error carries, or undefined when it carries none (or an HTTP one). */
export function grpcCodeOf(error: unknown): GrpcStatusCode | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === "number" && namesByCode.has(code) ? (code as GrpcStatusCode) : undefined;
}

/** The name of a gRPC status code (`ABORTED` for 10), or undefined for a number that is none. */
export function grpcStatusName(code: number): GrpcStatusName | undefined {
  return namesByCode.get(code);
}

/**
 * Codes a Firestore write fails with when one of its preconditions did not hold: a document
 * that must exist is gone, one that must not exist is there, or its update time moved.
 */
export const preconditionFailures: ReadonlySet<number> = new Set([
  grpcStatus.NOT_FOUND,
  grpcStatus.ALREADY_EXISTS,
  grpcStatus.FAILED_PRECONDITION,
]);
