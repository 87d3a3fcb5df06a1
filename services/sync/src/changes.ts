import { FieldPath, type Firestore, Timestamp } from "@google-cloud/firestore";
import {
  type AccessRules,
  AppError,
  type Clock,
  callerOf,
  describeIssues,
  feedScope,
  systemClock,
  userOf,
  withDeadline,
} from "@syncstack/shared";
import type { RequestHandler } from "express";
import { z } from "zod";
import { assertWritable, changeSchema } from "./validation.ts";

interface Cursor {
  /** updated_at of the last document returned, as seconds and nanoseconds. */
  s: number;
  n: number;
  /** Its id, to break ties between documents written at the same instant. */
  id: string;
}

/** Encodes a change-feed position as an opaque string. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if (Number.isInteger(value.s) && Number.isInteger(value.n) && typeof value.id === "string")
      return value;
  } catch {
    // reported below
  }
  throw new AppError("invalid_argument", "since is not a cursor this API returned");
}

const querySchema = z.strictObject({
  collection: changeSchema.shape.collection,
  since: z.string().max(4_096).optional(),
  limit: z.coerce.number({ error: "limit must be a number" }).int().min(1).max(1_000).default(100),
});

/**
 * `GET /v1/changes?collection=&since=&limit=`: the documents of a collection the caller may
 * read that changed after the cursor, in change order (commit time, then id), with the
 * cursor to continue from; a deleted document comes as a tombstone (`deleted: true`, its
 * last version). An offline client catches up page by page without reading the whole
 * collection. A caller who reads every document (an admin, or a shared-read collection)
 * follows `updated_at`; anyone else follows `readers.<uid>`, the commit time every write
 * stamps for each user who may read the document (its creator and members), so Firestore
 * serves the page from that field's single-field index: nothing is filtered in memory, and
 * no per-collection composite index is needed. A cursor older than the tombstone retention
 * is 410: deletions before it may be gone, so the client must resync from the start.
 */
export function listChanges(
  db: Firestore,
  rules: AccessRules,
  options: { deadlineMs: number; tombstoneRetentionMs: number; now?: Clock },
): RequestHandler {
  const now = options.now ?? systemClock;
  return async (request, response) => {
    const parsed = querySchema.safeParse(request.query, { reportInput: true });
    if (!parsed.success) {
      throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
    }
    const { collection, since, limit } = parsed.data;
    assertWritable(collection);
    const caller = callerOf(userOf(request));
    const policy = rules.policyOf(collection);
    const scope = feedScope(policy, caller);
    if (scope === "forbidden") {
      throw new AppError("permission_denied", `collection ${collection} is admin-only`);
    }
    const clock =
      scope === "all" ? new FieldPath("updated_at") : new FieldPath("readers", caller.uid);
    let query = db
      .collection(collection)
      .orderBy(clock)
      .orderBy(FieldPath.documentId())
      .limit(limit + 1);
    if (since) {
      const cursor = decodeCursor(since);
      const horizon = now() - options.tombstoneRetentionMs;
      if (cursor.s * 1_000 + cursor.n / 1e6 < horizon) {
        throw new AppError(
          "gone",
          `the cursor is older than the ${Math.round(options.tombstoneRetentionMs / 86_400_000)}-day tombstone retention, so deletions since may be missing: resync from the start (without since)`,
        );
      }
      query = query.startAfter(new Timestamp(cursor.s, cursor.n), cursor.id);
    }
    const snapshot = await withDeadline("firestore.changes", options.deadlineMs, () => query.get());
    const docs = snapshot.docs.slice(0, limit);
    const changes = docs.map((doc) => {
      const deleted = doc.get("deleted") === true;
      return {
        document: doc.id,
        ...(deleted ? { deleted: true } : { data: doc.get("data") as unknown }),
        version: doc.get("version") as number,
        created_by: (doc.get("created_by") as string | undefined) ?? null,
        sync_source: doc.get("sync_source") as string,
        updated_at: (doc.get("updated_at") as Timestamp).toDate().toISOString(),
      };
    });
    const last = docs.at(-1);
    const lastTime = last?.get(clock) as Timestamp | undefined;
    response.json({
      changes,
      next_cursor:
        last && lastTime
          ? encodeCursor({ s: lastTime.seconds, n: lastTime.nanoseconds, id: last.id })
          : (since ?? null),
      has_more: snapshot.docs.length > limit,
    });
  };
}
