import { AppError } from "@syncstack/shared";

/** Maps a failed storage call to a 503 the push retries; an AppError (a deadline) passes as is. */
export function storageError(what: string) {
  return (error: unknown): never => {
    if (error instanceof AppError) throw error;
    throw new AppError("unavailable", `${what} failed`, { cause: error });
  };
}
