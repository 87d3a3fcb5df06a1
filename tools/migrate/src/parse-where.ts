import type { WhereFilterOp } from "@google-cloud/firestore";

/** One `--where` filter on the source collection. */
export interface WhereClause {
  field: string;
  op: WhereFilterOp;
  value: unknown;
}

const operators = [
  "==",
  "!=",
  "<",
  "<=",
  ">",
  ">=",
  "in",
  "not-in",
  "array-contains",
  "array-contains-any",
] as const satisfies readonly WhereFilterOp[];

const listOperators: ReadonlySet<string> = new Set(["in", "not-in", "array-contains-any"]);
// Firestore orders results by the fields of these filters before the document id, so paging
// must order (and resume) by them too.
const inequalityOperators: ReadonlySet<string> = new Set(["!=", "<", "<=", ">", ">=", "not-in"]);

/** The operators `--where` accepts, for messages and usage. */
export const whereOperators: readonly string[] = operators;

/**
 * Parses `"<field> <op> <value>"`: the value is JSON when it parses (`10`, `true`, `null`,
 * `"a b"`, `["x","y"]`) and a bare string otherwise. Returns an error message on bad input.
 */
export function parseWhere(text: string): WhereClause | string {
  const match = /^\s*(\S+)\s+(\S+)\s+(.*?)\s*$/s.exec(text);
  if (!match) return `--where "${text}": expected "<field> <op> <value>" separated by spaces`;
  const [, field = "", op = "", raw = ""] = match;
  if (!isOperator(op)) {
    return `--where "${text}": unknown operator ${op} (one of ${operators.join(" ")})`;
  }
  if (field.split(".").some((part) => part === "")) {
    return `--where "${text}": ${field} is not a field path`;
  }
  const value = parseValue(raw);
  if (listOperators.has(op) && (!Array.isArray(value) || value.length === 0)) {
    return `--where "${text}": ${op} takes a non-empty JSON array, e.g. ["a","b"]`;
  }
  return { field, op, value };
}

/** The fields a query with these filters must be ordered by ahead of the document id. */
export function orderingFields(where: readonly WhereClause[]): string[] {
  const fields = where.filter((clause) => inequalityOperators.has(clause.op)).map((c) => c.field);
  return [...new Set(fields)].sort();
}

function isOperator(op: string): op is (typeof operators)[number] {
  return (operators as readonly string[]).includes(op);
}

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
