import type { DocumentData } from "@google-cloud/firestore";
import type { MigrationTransform } from "./load-transform.ts";

/** What becomes of one document: written with this data, skipped, or failed with a reason. */
export type TransformOutcome =
  | { kind: "write"; data: DocumentData }
  | { kind: "skip" }
  | { kind: "fail"; reason: string };

/**
 * Runs the transform on one document and checks what it returns; a throw or a result that is
 * not a plain object (or null) fails this document only.
 */
export async function applyTransform(
  transform: MigrationTransform | undefined,
  data: DocumentData,
  id: string,
): Promise<TransformOutcome> {
  if (!transform) return { kind: "write", data };
  let output: unknown;
  try {
    output = await transform(safeIntegersAsNumbers(data) as DocumentData, id);
  } catch (error) {
    return { kind: "fail", reason: `transform threw: ${describe(error)}` };
  }
  if (output === null) return { kind: "skip" };
  if (!isPlainObject(output)) {
    return {
      kind: "fail",
      reason: `transform returned ${typeName(output)}, not an object (return null to skip)`,
    };
  }
  return { kind: "write", data: output };
}

// The client reads every integer as a bigint (so integers past 2^53 survive a copy); a
// transform author expects numbers, so only the ones a number holds exactly are converted.
function safeIntegersAsNumbers(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(safeIntegersAsNumbers);
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) copy[key] = safeIntegersAsNumbers(field);
    return copy;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function typeName(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === undefined) return "undefined";
  if (typeof value === "object") return `a ${value?.constructor?.name ?? "object"}`;
  return `a ${typeof value} (${String(value).slice(0, 40)})`;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
