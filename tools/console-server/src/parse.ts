import { AppError, describeIssues } from "@syncstack/shared";
import type { z } from "zod";

/** A request's query parsed by a strict schema; a 400 naming each bad or unknown parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.infer<S> {
  const parsed = schema.safeParse(query, { reportInput: true });
  if (!parsed.success) {
    throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
  }
  return parsed.data;
}

/** A request's JSON body parsed by a strict schema; a 400 naming the bad or unknown field. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body ?? {}, { reportInput: true });
  if (!parsed.success) {
    throw new AppError("invalid_argument", describeIssues(parsed.error, "field"));
  }
  return parsed.data;
}
