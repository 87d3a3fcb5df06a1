import { ApiError, conditionNotMet, invalid } from "./api-error.ts";
import type { ObjectRecord } from "./records.ts";

const names = [
  "ifGenerationMatch",
  "ifGenerationNotMatch",
  "ifMetagenerationMatch",
  "ifMetagenerationNotMatch",
] as const;

/** The `if*Match` query parameters of a request (with `prefix`, e.g. `ifSource...`). */
export function conditionsFrom(query: URLSearchParams, prefix = "if"): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of names) {
    const value = query.get(`${prefix}${name.slice(2)}`);
    if (value === null) continue;
    if (!/^\d+$/.test(value)) throw invalid(`Invalid value for ${prefix}${name.slice(2)}.`);
    found[name] = value;
  }
  return found;
}

/**
 * Checks preconditions against the object they are about (undefined when there is none, which
 * only `ifGenerationMatch=0` expects). A failed `...NotMatch` on a read is 304, anything else 412.
 */
export function checkConditions(
  current: ObjectRecord | undefined,
  conditions: Record<string, string>,
  read = false,
): void {
  const generation = current?.generation ?? "0";
  const metageneration = current ? String(current.metageneration) : undefined;
  const { ifGenerationMatch, ifGenerationNotMatch, ifMetagenerationMatch } = conditions;
  const { ifMetagenerationNotMatch } = conditions;
  if (ifGenerationMatch !== undefined && ifGenerationMatch !== generation) throw conditionNotMet();
  if (ifMetagenerationMatch !== undefined && ifMetagenerationMatch !== metageneration) {
    throw conditionNotMet();
  }
  const notModified =
    (ifGenerationNotMatch !== undefined && ifGenerationNotMatch === generation) ||
    (ifMetagenerationNotMatch !== undefined && ifMetagenerationNotMatch === metageneration);
  if (notModified) {
    throw read ? new ApiError(304, "notModified", "Not Modified") : conditionNotMet();
  }
}
