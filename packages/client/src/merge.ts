/** A JSON object: a document's data. */
export type JsonObject = { [key: string]: unknown };

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * What `POST /v1/sync` does to a document's data: each leaf of `change` is set at its path; an
 * object with members merges member by member, `{}` replaces with an empty map, arrays, null
 * and scalars replace.
 */
export function deepMerge(target: JsonObject, change: JsonObject): JsonObject {
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(change)) {
    const current = result[key];
    result[key] =
      isObject(value) && Object.keys(value).length > 0
        ? deepMerge(isObject(current) ? current : {}, value)
        : structuredClone(value);
  }
  return result;
}

/** RFC 7396 merge patch of a document's data, as `PATCH /v1/documents` applies it. */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (isObject(value)) {
      const current = result[key];
      result[key] = mergePatch(isObject(current) ? current : {}, value);
    } else result[key] = structuredClone(value);
  }
  return result;
}

export { isObject };
