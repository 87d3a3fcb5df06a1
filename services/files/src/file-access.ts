import type { DocumentSnapshot, Firestore } from "@google-cloud/firestore";
import { AppError, type AuthUser, describeIssues, withDeadline } from "@syncstack/shared";
import { z } from "zod";
import { filesCollection } from "./file-records.ts";

/** True for a `files` id as the service makes them (file-id.ts); anything else names no record. */
export function isFileId(id: string): boolean {
  return /^[0-9a-f]{40}$/.test(id);
}

const noParameters = z.strictObject({});

/** The routes of one file take no query parameters: any is a 400 naming it. */
export function assertNoQuery(query: unknown): void {
  const parsed = noParameters.safeParse(query);
  if (!parsed.success) {
    throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
  }
}

/** True when the caller's token has the admin claim: an admin reads every record. */
export function isAdmin(user: AuthUser): boolean {
  return user.claims.admin === true;
}

/** The one answer for a record that is missing or that the caller may not read. */
export function fileNotFound(id: string): AppError {
  return new AppError("not_found", `file ${id} not found`);
}

/**
 * The record of `id` when the caller may read it: its owner, or an admin. A record of
 * someone else answers exactly as a missing one, so a caller cannot learn that it exists.
 */
export async function readableFile(
  db: Firestore,
  id: string,
  user: AuthUser,
  deadlineMs: number,
): Promise<DocumentSnapshot> {
  if (!isFileId(id)) throw fileNotFound(id);
  const snapshot = await withDeadline("firestore.files.get", deadlineMs, () =>
    db.collection(filesCollection).doc(id).get(),
  );
  if (!snapshot.exists) throw fileNotFound(id);
  if (!isAdmin(user) && snapshot.get("owner") !== user.uid) throw fileNotFound(id);
  return snapshot;
}

/** True when an `If-None-Match` header names `etag` (weak comparison, as RFC 9110 says) or is `*`. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return header.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}
