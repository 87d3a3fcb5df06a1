/**
 * RFC 7396 JSON Merge Patch, exactly: a member whose patch value is null is removed; an
 * object merges member by member (into an empty object when the target's value is not one);
 * anything else (arrays included) replaces the target. A patch that is not an object
 * replaces the whole target. Neither argument is modified.
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
