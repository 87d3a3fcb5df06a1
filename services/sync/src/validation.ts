import {
  AppError,
  collectionNames,
  describeIssues,
  firestoreIdProblem,
  loneSurrogateProblem,
  maxIdBytes,
} from "@syncstack/shared";
import { z } from "zod";

/** Collections the services own (the collections registry): written by their handlers only, never through the ingress. */
export const ownedCollections: ReadonlySet<string> = collectionNames();

/** Firestore's limits the ingress enforces before writing. */
export const limits = {
  idBytes: maxIdBytes,
  /** Firestore's document limit is 1 MiB; the rest is left for the fields sync adds. */
  dataBytes: 1_000_000,
  depth: 20,
  fieldNameBytes: 1_500,
  sourceLength: 128,
  batchSize: 500,
} as const;

const bytes = (text: string) => Buffer.byteLength(text, "utf8");

/** Firestore's rules for collection and document ids. */
function firestoreId(what: string) {
  return z.string({ error: `${what} must be a string` }).superRefine((id, context) => {
    const problem = firestoreIdProblem(id, what);
    if (problem) context.addIssue({ code: "custom", message: problem });
  });
}

/** Why `data` cannot be stored as a Firestore map, or undefined when it can. */
export function dataProblem(data: unknown): string | undefined {
  if (typeof data !== "object" || data === null || Array.isArray(data))
    return "data must be a JSON object";
  const visit = (value: unknown, path: string, depth: number): string | undefined => {
    if (depth > limits.depth) return `${path} is nested deeper than ${limits.depth} levels`;
    if (typeof value === "string" && !value.isWellFormed())
      return `${path} ${loneSurrogateProblem}`;
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) {
        if (Array.isArray(item))
          return `${path}[${index}] is an array inside an array, which Firestore cannot store`;
        const problem = visit(item, `${path}[${index}]`, depth + 1);
        if (problem) return problem;
      }
    } else if (typeof value === "object" && value !== null) {
      for (const [key, child] of Object.entries(value)) {
        if (key.length === 0) return `${path} has an empty field name`;
        // The Firestore Node client builds updates in plain objects, so it cannot update a
        // field named like an Object.prototype member (a create would work, an update not).
        if (key in Object.prototype)
          return `${path}.${key} uses a field name that cannot be updated`;
        if (!key.isWellFormed()) return `${path} has a field name that ${loneSurrogateProblem}`;
        if (/^__.*__$/.test(key)) return `${path}.${key} uses a reserved field name (__.*__)`;
        if (bytes(key) > limits.fieldNameBytes)
          return `${path} has a field name over ${limits.fieldNameBytes} bytes`;
        const problem = visit(child, `${path}.${key}`, depth + 1);
        if (problem) return problem;
      }
    }
    return undefined;
  };
  const problem = visit(data, "data", 1);
  if (problem) return problem;
  if (bytes(JSON.stringify(data)) > limits.dataBytes)
    return `data is larger than ${limits.dataBytes} bytes`;
  return undefined;
}

/** One change as an app sends it; a field it does not know is an error, never ignored. */
export const changeSchema = z.strictObject({
  collection: firestoreId("collection"),
  document: firestoreId("document"),
  data: z.unknown().superRefine((data, context) => {
    const problem = dataProblem(data);
    if (problem) context.addIssue({ code: "custom", message: problem });
  }),
  source: z
    .string()
    .min(1)
    .max(limits.sourceLength)
    .refine((source) => source.isWellFormed(), `source ${loneSurrogateProblem}`)
    .optional(),
  expected_version: z.number().int().min(0).optional(),
});
export type Change = Omit<z.output<typeof changeSchema>, "data"> & {
  data: Record<string, unknown>;
};

/** Parses a change or throws a 400 naming the fields; an owned collection is a 403. */
export function parseChange(body: unknown): Change {
  const parsed = changeSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) {
    throw new AppError("invalid_argument", describeIssues(parsed.error), {
      details: { fields: [...new Set(parsed.error.issues.map((issue) => issue.path.join(".")))] },
    });
  }
  assertWritable(parsed.data.collection);
  return parsed.data as Change;
}

/** A document's address as a delete names it: a batch item `{op: "delete", collection, document}`. */
export const deleteSchema = z.strictObject({
  op: z.literal("delete"),
  collection: firestoreId("collection"),
  document: firestoreId("document"),
  expected_version: z.number().int().min(0).optional(),
});
export type DeleteChange = z.output<typeof deleteSchema>;

/**
 * Parses one item of a batch: a change to merge (`op` absent or `"merge"`) or a delete
 * (`op: "delete"`); 400 naming the fields, 403 for an owned collection.
 */
export function parseBatchItem(body: unknown): Change | DeleteChange {
  const op = (body as { op?: unknown } | null)?.op;
  if (op === undefined) return parseChange(body);
  if (op === "merge") {
    const { op: _, ...change } = body as Record<string, unknown>;
    return parseChange(change);
  }
  if (op !== "delete") throw new AppError("invalid_argument", 'op must be "merge" or "delete"');
  const parsed = deleteSchema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw new AppError("invalid_argument", describeIssues(parsed.error));
  assertWritable(parsed.data.collection);
  return parsed.data;
}

/** A route that takes no query parameters refuses any, naming them, instead of ignoring them. */
export function assertNoQuery(query: Record<string, unknown>): void {
  const names = Object.keys(query);
  if (names.length === 0) return;
  throw new AppError(
    "invalid_argument",
    `unknown query parameter${names.length > 1 ? "s" : ""}: ${names.join(", ")}`,
  );
}

/** Latin letters' Cyrillic and Greek lookalikes, as used to spoof names. */
const lookalikes: Record<string, string> = {
  а: "a",
  с: "c",
  ԁ: "d",
  е: "e",
  һ: "h",
  і: "i",
  ј: "j",
  ӏ: "l",
  о: "o",
  р: "p",
  ѕ: "s",
  х: "x",
  у: "y",
  α: "a",
  ε: "e",
  ι: "i",
  κ: "k",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
};

/**
 * The names a collection id could be taken for: percent-decoded, Unicode-compatibility
 * folded (NFKC), without invisible characters, lookalikes mapped to Latin, lower case, and
 * split at "/" (an encoded slash).
 */
function lookalikeSegments(collection: string): string[] {
  let text = collection;
  try {
    text = decodeURIComponent(collection);
  } catch {
    // not percent-encoded
  }
  const folded = text
    .normalize("NFKC")
    .replace(/[\p{Cc}\p{Cf}\p{Z}]/gu, "")
    .toLowerCase()
    .replace(/./gu, (char) => lookalikes[char] ?? char);
  return folded.split("/");
}

/**
 * Throws a 403 for collections the services own or the project uses internally, and for
 * names that look like them (`Users`, `ｕｓｅｒｓ`, `users%2Fx`, `user\u200bs`), so nobody can
 * create a collection an operator or a security rule would mistake for an owned one.
 */
export function assertWritable(
  collection: string,
  owned: ReadonlySet<string> = ownedCollections,
): void {
  const match = [collection, ...lookalikeSegments(collection)].find(
    (name) => owned.has(name) || name.startsWith("_"),
  );
  if (match === undefined) return;
  throw new AppError(
    "permission_denied",
    match === collection
      ? `collection ${collection} is owned by syncstack and cannot be reached through the ingress`
      : `collection ${collection} looks like ${match}, which is owned by syncstack; it cannot be reached through the ingress`,
  );
}
