import {
  FieldPath,
  type Firestore,
  type Query,
  type QueryDocumentSnapshot,
  Timestamp,
} from "@google-cloud/firestore";
import {
  type AccessRules,
  AppError,
  type AuthUser,
  type Clock,
  callerOf,
  feedScope,
} from "@syncstack/shared";
import { z } from "zod";
import { assertWritable, changeSchema } from "./validation.ts";

/** A place in a feed: a clock, then a document id. */
export interface Position {
  /** The clock (updated_at or readers.<uid>) as seconds and nanoseconds. */
  s: number;
  n: number;
  /** The document id, to break ties between documents written in one commit. */
  id: string;
}

/** A Firestore time as [seconds, nanoseconds]. */
export type ReadTime = [number, number];

/**
 * A change-feed cursor: a position and the read time R of the read that produced it, with
 * the invariant every read keeps (feed-page.ts): the client holds, at its current version,
 * every document whose clock is at or before the position and whose update time is at or
 * before R. Cursors issued before R existed have none: they hold everything up to the position.
 */
export interface Cursor extends Position {
  r?: ReadTime;
  /**
   * A rescan of the settle window stopped part-way (page full, or its read budget spent): the
   * client also holds every document at or before `w` as of time `t`, and the rescan goes on
   * after `w`, reading at `t`.
   */
  w?: Position;
  t?: ReadTime;
}

/** Encodes a change-feed cursor as an opaque string. */
export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** Decodes a cursor this API returned; anything else is a 400 naming where it came from. */
export function decodeCursor(text: string, from = "since"): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as Cursor;
    if (
      isPosition(value) &&
      (value.r === undefined || isReadTime(value.r)) &&
      (value.w === undefined ||
        (value.r !== undefined && isPosition(value.w) && isReadTime(value.t)))
    )
      return value;
  } catch {
    // reported below
  }
  throw new AppError("invalid_argument", `${from} is not a cursor this API returned`);
}

function isPosition(value: unknown): value is Position {
  const position = value as Position | null;
  return (
    typeof position === "object" &&
    position !== null &&
    Number.isInteger(position.s) &&
    Number.isInteger(position.n) &&
    typeof position.id === "string"
  );
}

function isReadTime(value: unknown): value is ReadTime {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    Number.isInteger(value[0]) &&
    Number.isInteger(value[1]) &&
    value[1] >= 0 &&
    value[1] < 1e9
  );
}

/** A Firestore time as a cursor holds it. */
export function readTimeOf(time: Timestamp): ReadTime {
  return [time.seconds, time.nanoseconds];
}

/** The Timestamp of a cursor's time. */
export function timestampOf(time: ReadTime): Timestamp {
  return new Timestamp(time[0], time[1]);
}

/** Just the position of a cursor. */
export function positionOf(cursor: Position): Position {
  return { s: cursor.s, n: cursor.n, id: cursor.id };
}

/** The query parameters of `GET /v1/changes`, JSON and stream alike. */
export const changesQuerySchema = z.strictObject({
  collection: changeSchema.shape.collection,
  since: z.string().max(4_096).optional(),
  limit: z.coerce.number({ error: "limit must be a number" }).int().min(1).max(1_000).default(100),
});

/** What a caller's feed of one collection is: the collection, its clock, and the ordered query. */
export interface Feed {
  collection: string;
  /** `updated_at` for callers who read everything, else `readers.<uid>`. */
  clock: FieldPath;
  /** The collection ordered by (clock, id): every document the caller may read, in change order. */
  query: Query;
}

/**
 * The feed a caller may read of a collection: an admin-only collection is 403 for non-admins;
 * a caller who reads every document follows `updated_at`, anyone else `readers.<uid>`, so
 * Firestore serves it from a single-field index and nothing is filtered in memory.
 */
export function feedOf(
  db: Firestore,
  rules: AccessRules,
  user: AuthUser,
  collection: string,
): Feed {
  assertWritable(collection);
  const caller = callerOf(user);
  const scope = feedScope(rules.policyOf(collection), caller);
  if (scope === "forbidden") {
    throw new AppError("permission_denied", `collection ${collection} is admin-only`);
  }
  const clock =
    scope === "all" ? new FieldPath("updated_at") : new FieldPath("readers", caller.uid);
  const query = db.collection(collection).orderBy(clock).orderBy(FieldPath.documentId());
  return { collection, clock, query };
}

/**
 * Checks a cursor against the tombstone horizon: older is 410, since deletions after it may
 * already be gone.
 */
export function assertWithinRetention(
  cursor: Position,
  now: Clock,
  tombstoneRetentionMs: number,
): void {
  if (cursor.s * 1_000 + cursor.n / 1e6 < now() - tombstoneRetentionMs) {
    throw new AppError(
      "gone",
      `the cursor is older than the ${Math.round(tombstoneRetentionMs / 86_400_000)}-day tombstone retention, so deletions since may be missing: resync from the start (without since)`,
    );
  }
}

/** The feed's query after a cursor (from the start without one). */
export function queryAfter(feed: Feed, cursor: Position | undefined): Query {
  return cursor ? feed.query.startAfter(new Timestamp(cursor.s, cursor.n), cursor.id) : feed.query;
}

/** One feed item: the document's data, or `deleted: true` for a tombstone. */
export interface FeedItem {
  document: string;
  data?: unknown;
  deleted?: true;
  version: number;
  created_by: string | null;
  sync_source: string;
  updated_at: string;
}

/** The feed item of a document. */
export function itemOf(doc: QueryDocumentSnapshot): FeedItem {
  const deleted = doc.get("deleted") === true;
  return {
    document: doc.id,
    ...(deleted ? { deleted: true as const } : { data: doc.get("data") as unknown }),
    version: doc.get("version") as number,
    created_by: (doc.get("created_by") as string | undefined) ?? null,
    sync_source: doc.get("sync_source") as string,
    updated_at: (doc.get("updated_at") as Timestamp).toDate().toISOString(),
  };
}

/** A document's position in the feed; undefined when it has no clock for this feed. */
export function cursorOf(doc: QueryDocumentSnapshot, clock: FieldPath): Position | undefined {
  const time = doc.get(clock) as Timestamp | undefined;
  return time instanceof Timestamp
    ? { s: time.seconds, n: time.nanoseconds, id: doc.id }
    : undefined;
}

/** Orders positions as the feed does: clock, then document id (Firestore's id order). */
export function compareCursors(a: Position, b: Position): number {
  return a.s - b.s || a.n - b.n || compareIds(a.id, b.id);
}

/** Firestore orders document ids of one collection by their UTF-8 bytes. */
function compareIds(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
