import { FieldPath, type Firestore, Timestamp } from "@google-cloud/firestore";
import { AppError, describeIssues, withDeadline } from "@syncstack/shared";
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
 * `GET /v1/changes?collection=&since=&limit=`: the documents of a collection changed after
 * the cursor, in change order (commit time, then id), with the cursor to continue from.
 * An offline client catches up page by page without reading the whole collection.
 */
export function listChanges(db: Firestore, deadlineMs: number): RequestHandler {
  return async (request, response) => {
    const parsed = querySchema.safeParse(request.query, { reportInput: true });
    if (!parsed.success) {
      throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
    }
    const { collection, since, limit } = parsed.data;
    assertWritable(collection);
    let query = db
      .collection(collection)
      .orderBy("updated_at")
      .orderBy(FieldPath.documentId())
      .limit(limit + 1);
    if (since) {
      const cursor = decodeCursor(since);
      query = query.startAfter(new Timestamp(cursor.s, cursor.n), cursor.id);
    }
    const snapshot = await withDeadline("firestore.changes", deadlineMs, () => query.get());
    const docs = snapshot.docs.slice(0, limit);
    const changes = docs.map((doc) => ({
      document: doc.id,
      data: doc.get("data") as unknown,
      version: doc.get("version") as number,
      sync_source: doc.get("sync_source") as string,
      updated_at: (doc.get("updated_at") as Timestamp).toDate().toISOString(),
    }));
    const last = docs.at(-1);
    const lastTime = last?.get("updated_at") as Timestamp | undefined;
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
