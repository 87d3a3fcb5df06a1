/** An error the emulator answers in the JSON API's format: status, reason and message. */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = "ApiError";
    this.status = status;
    this.reason = reason;
  }

  /** The body Cloud Storage sends with an error, which the client turns into an ApiError. */
  toJSON(): unknown {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: "global", reason: this.reason }],
      },
    };
  }
}

/** 400 with reason `invalid` (or another reason the API uses for bad input). */
export function invalid(message: string, reason = "invalid"): ApiError {
  return new ApiError(400, reason, message);
}

/** 404 for a bucket that does not exist. */
export function noSuchBucket(): ApiError {
  return new ApiError(404, "notFound", "The specified bucket does not exist.");
}

/** 404 for an object (or generation) that does not exist. */
export function noSuchObject(bucket: string, name: string): ApiError {
  return new ApiError(404, "notFound", `No such object: ${bucket}/${name}`);
}

/** 412: an `if*Match` precondition did not hold. */
export function conditionNotMet(): ApiError {
  return new ApiError(
    412,
    "conditionNotMet",
    "At least one of the pre-conditions you specified did not hold.",
  );
}
