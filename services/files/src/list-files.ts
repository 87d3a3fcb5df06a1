import { FieldPath, type Firestore, Timestamp } from "@google-cloud/firestore";
import { AppError, describeIssues, userOf, withDeadline } from "@syncstack/shared";
import type { RequestHandler } from "express";
import { z } from "zod";
import { isAdmin, isFileId } from "./file-access.ts";
import { fileJson } from "./file-json.ts";
import { filesCollection } from "./file-records.ts";

/** Where a page ended: the last record's `created` and id, and whose listing it was. */
interface PageToken {
  /** created, as seconds and nanoseconds. */
  s: number;
  n: number;
  id: string;
  /** The owner listed, so a token cannot continue another listing. */
  o: string;
}

const badToken = () =>
  new AppError("invalid_argument", "page_token is not a token this listing returned");

function encodePageToken(token: PageToken): string {
  return Buffer.from(JSON.stringify(token)).toString("base64url");
}

/** Decodes a page token of `owner`'s listing; anything else is a 400 naming page_token. */
function decodePageToken(text: string, owner: string): { created: Timestamp; id: string } {
  let token: Partial<PageToken>;
  try {
    token = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Partial<PageToken>;
  } catch {
    throw badToken();
  }
  const { s, n, id, o } = token ?? {};
  if (!Number.isInteger(s) || !Number.isInteger(n) || typeof id !== "string" || !o) {
    throw badToken();
  }
  if (!isFileId(id)) throw badToken();
  if (o !== owner) {
    throw new AppError("invalid_argument", "page_token continues the listing of another owner");
  }
  try {
    // Throws for seconds or nanoseconds out of Timestamp's range.
    return { created: new Timestamp(s as number, n as number), id };
  } catch {
    throw badToken();
  }
}

const querySchema = z.strictObject({
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be at least 1")
    .max(1_000, "limit must be at most 1000")
    .default(100),
  page_token: z.string({ error: "page_token must be one string" }).max(4_096).optional(),
  owner: z
    .string({ error: "owner must be one string" })
    .min(1, "owner must not be empty")
    .max(128, "owner must be at most 128 characters")
    .refine((owner) => owner.isWellFormed(), "owner must be valid Unicode")
    .optional(),
});

/**
 * `GET /v1/files?limit=&page_token=`: the caller's own files that are not deleted, newest
 * first (the object's creation time, then id), a page at a time. An admin may list another
 * user's files with `owner=<uid>`. One indexed query (owner, deleted, created desc, id desc:
 * the composite index the collections registry declares), never a scan.
 */
export function listFiles(db: Firestore, deadlineMs: number): RequestHandler {
  return async (request, response) => {
    const parsed = querySchema.safeParse(request.query, { reportInput: true });
    if (!parsed.success) {
      throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
    }
    const { limit, page_token: pageToken } = parsed.data;
    const user = userOf(request);
    const owner = parsed.data.owner ?? user.uid;
    if (owner !== user.uid && !isAdmin(user)) {
      throw new AppError(
        "permission_denied",
        "owner is for admins only: a user lists their own files without it",
      );
    }
    let query = db
      .collection(filesCollection)
      .where("owner", "==", owner)
      .where("deleted", "==", false)
      .orderBy("created", "desc")
      .orderBy(FieldPath.documentId(), "desc")
      .limit(limit + 1);
    if (pageToken !== undefined) {
      const after = decodePageToken(pageToken, owner);
      query = query.startAfter(after.created, after.id);
    }
    const snapshot = await withDeadline("firestore.files.list", deadlineMs, () => query.get());
    const page = snapshot.docs.slice(0, limit);
    const last = page.at(-1);
    const created = last?.get("created") as Timestamp | undefined;
    response.set("Cache-Control", "private, no-cache").json({
      files: page.map(fileJson),
      next_page_token:
        snapshot.size > limit && last && created
          ? encodePageToken({ s: created.seconds, n: created.nanoseconds, id: last.id, o: owner })
          : null,
    });
  };
}
