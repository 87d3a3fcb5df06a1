import { readFileSync } from "node:fs";
import { z } from "zod";
import { describeIssues } from "./describe-issues.ts";
import { AppError } from "./errors.ts";
import { firestoreIdProblem } from "./firestore-ids.ts";
import { collectionNames } from "./registry/collections.ts";

/** The app's access rules (docs/access-rules.md): who reads and writes each app collection. */

/** At most this many uids in a members list (each is a reader of the document). */
export const maxMembers = 100;

const uidSchema = z.string().min(1).max(128);

/** Who may read and write one collection's documents. */
export type Policy =
  | { policy: "owner" }
  | { policy: "members"; members_field: string }
  | { policy: "shared-read" }
  | { policy: "admin-only" };

const policySchema = z.discriminatedUnion(
  "policy",
  [
    z.strictObject({ policy: z.literal("owner") }),
    z.strictObject({
      policy: z.literal("members"),
      members_field: z
        .string({ error: "members_field is required for the members policy" })
        .min(1, "members_field must not be empty")
        .max(1_500)
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "members_field must be a top-level field name of data"),
    }),
    z.strictObject({ policy: z.literal("shared-read") }),
    z.strictObject({ policy: z.literal("admin-only") }),
  ],
  { error: "policy must be one of owner, members, shared-read, admin-only" },
);

const rulesSchema = z.strictObject({
  $comment: z.string().optional(),
  collections: z.record(z.string(), policySchema),
});

/** The default for a collection the file does not name: only the document's creator. */
const ownerPolicy: Policy = { policy: "owner" };

/** The app's access rules: a policy per collection, `owner` for the collections not named. */
export class AccessRules {
  readonly #policies: ReadonlyMap<string, Policy>;

  constructor(policies: Record<string, Policy> = {}) {
    this.#policies = new Map(Object.entries(policies));
  }

  policyOf(collection: string): Policy {
    return this.#policies.get(collection) ?? ownerPolicy;
  }

  /** The collections the file names, with their policies. */
  named(): ReadonlyMap<string, Policy> {
    return this.#policies;
  }
}

/**
 * Parses a rules file's text; a mistake throws an Error naming the file and the entry
 * (`collections.projects.members_field is required ...`), so a bad file stops start-up.
 */
export function parseAccessRules(text: string, source: string): AccessRules {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`access rules ${source}: not valid JSON (${(error as Error).message})`);
  }
  const parsed = rulesSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) {
    throw new Error(`access rules ${source}: ${describeIssues(parsed.error)}`);
  }
  for (const name of Object.keys(parsed.data.collections)) {
    const problem =
      firestoreIdProblem(name, `collections.${name}`) ??
      (collectionNames().has(name) || name.startsWith("_")
        ? `collections.${name} is owned by syncstack; its access is not the rules file's to open`
        : undefined);
    if (problem) throw new Error(`access rules ${source}: ${problem}`);
  }
  return new AccessRules(parsed.data.collections as Record<string, Policy>);
}

/** Reads and validates the rules file at `path`. */
export function loadAccessRules(path: string): AccessRules {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`access rules ${path}: cannot be read (${(error as Error).message})`);
  }
  return parseAccessRules(text, path);
}

/** The caller as the rules see it. */
export interface Caller {
  uid: string;
  /** A token with the `admin: true` claim reads and writes every app collection. */
  admin: boolean;
}

/** The caller of a request `requireUser` verified, as the rules see it. */
export function callerOf(user: { uid: string; claims: Record<string, unknown> }): Caller {
  return { uid: user.uid, admin: user.claims.admin === true };
}

/** What the rules need to know of a stored document. */
export interface Ownership {
  createdBy: string | undefined;
  members: readonly string[];
}

export type Action = "read" | "write" | "delete" | "change-members";

/**
 * A decision: `allow`; `hidden` when the caller may not read the document, answered exactly
 * like a missing one (404) so its existence does not leak; `forbidden` (403) when the caller
 * may see the document, or the whole collection is closed to it, but not do this.
 */
export type Decision = "allow" | "hidden" | "forbidden";

/** What `caller` may do to an existing document (or a tombstone) under `policy`. */
export function decide(
  policy: Policy,
  caller: Caller,
  document: Ownership,
  action: Action,
): Decision {
  if (caller.admin) return "allow";
  if (policy.policy === "admin-only") return "forbidden";
  const owner = document.createdBy !== undefined && document.createdBy === caller.uid;
  if (owner) return "allow";
  const member = policy.policy === "members" && document.members.includes(caller.uid);
  const reader = member || policy.policy === "shared-read";
  if (!reader) return "hidden";
  if (action === "read") return "allow";
  if (member && action === "write") return "allow";
  return "forbidden";
}

/** Whether `caller` may create a new document: anyone signed in, except in admin-only collections. */
export function mayCreate(policy: Policy, caller: Caller): boolean {
  return caller.admin || policy.policy !== "admin-only";
}

/** Whether the feed of `collection` is the caller's own documents, or every document. */
export function feedScope(policy: Policy, caller: Caller): "all" | "readable" | "forbidden" {
  if (caller.admin || policy.policy === "shared-read") return "all";
  if (policy.policy === "admin-only") return "forbidden";
  return "readable";
}

/**
 * The members list a document's data holds under the members policy (empty otherwise); a
 * value that is not a list of at most `maxMembers` uids is a 400 naming the field.
 */
export function membersIn(policy: Policy, data: Record<string, unknown> | undefined): string[] {
  if (policy.policy !== "members" || data === undefined) return [];
  const value = data[policy.members_field];
  if (value === undefined || value === null) return [];
  const parsed = z.array(uidSchema).max(maxMembers).safeParse(value);
  if (!parsed.success) {
    throw new AppError(
      "invalid_argument",
      `data.${policy.members_field} must be a list of at most ${maxMembers} uids (strings of 1-128 characters)`,
    );
  }
  return [...new Set(parsed.data)];
}

/**
 * The members list a stored document holds: as `membersIn`, but a value that is not a valid
 * list (stored before the rules named the field) makes nobody a member instead of an error.
 */
export function storedMembers(policy: Policy, data: Record<string, unknown> | undefined): string[] {
  try {
    return membersIn(policy, data);
  } catch {
    return [];
  }
}

/** The users whose feed shows a document: its creator and its members. */
export function readersOf(ownership: Ownership): string[] {
  const readers = new Set(ownership.members);
  if (ownership.createdBy !== undefined) readers.add(ownership.createdBy);
  return [...readers];
}

/** The error for a decision that is not `allow`. */
export function refusal(
  decision: Exclude<Decision, "allow">,
  collection: string,
  document: string,
  action: Action,
  policy: Policy,
): AppError {
  if (decision === "hidden") return notFound(collection, document);
  if (policy.policy === "admin-only") {
    return new AppError("permission_denied", `collection ${collection} is admin-only`);
  }
  const what =
    action === "change-members" && policy.policy === "members"
      ? `only the owner of ${collection}/${document} changes data.${policy.members_field}`
      : `only the owner of ${collection}/${document} may ${action === "delete" ? "delete" : "change"} it`;
  return new AppError("permission_denied", what);
}

/** The one answer for a document that does not exist or that the caller may not read. */
export function notFound(collection: string, document: string): AppError {
  return new AppError("not_found", `document ${collection}/${document} not found`);
}
