import type { z } from "zod";

/**
 * Formats zod issues as one message naming each field: a missing one as required, one the
 * schema does not define as unknown (`what` says whether fields of a body or parameters of a
 * query).
 */
export function describeIssues(error: z.ZodError, what = "field"): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join(".");
      if (issue.code === "unrecognized_keys") {
        const where = field ? ` in ${field}` : "";
        return `unknown ${what}${issue.keys.length > 1 ? "s" : ""}${where}: ${issue.keys.join(", ")}`;
      }
      if (issue.code === "invalid_type" && issue.input === undefined) return `${field} is required`;
      return issue.message.startsWith(field) || !field
        ? issue.message
        : `${field}: ${issue.message}`;
    })
    .join("; ");
}
