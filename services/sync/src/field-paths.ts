import { FieldPath } from "@google-cloud/firestore";

/**
 * The leaf field paths of a JSON object, for a deep merge expressed as an update: nested
 * objects merge key by key; arrays, scalars and empty objects replace what was there.
 */
export function leafPaths(
  value: Record<string, unknown>,
  prefix: string[] = [],
): [FieldPath, unknown][] {
  const leaves: [FieldPath, unknown][] = [];
  for (const [key, child] of Object.entries(value)) {
    const path = [...prefix, key];
    if (isNonEmptyObject(child)) leaves.push(...leafPaths(child, path));
    else leaves.push([new FieldPath(...path), child]);
  }
  return leaves;
}

function isNonEmptyObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.keys(value).length > 0
  );
}
