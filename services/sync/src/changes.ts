import type { Firestore } from "@google-cloud/firestore";
import {
  type AccessRules,
  AppError,
  type Clock,
  describeIssues,
  systemClock,
  userOf,
  withDeadline,
} from "@syncstack/shared";
import type { Request, RequestHandler } from "express";
import {
  assertWithinRetention,
  type Cursor,
  changesQuerySchema,
  decodeCursor,
  encodeCursor,
  feedOf,
  itemOf,
} from "./change-feed.ts";
import type { ChangeStreams } from "./change-stream.ts";
import { readChanges } from "./feed-page.ts";

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
 * is 410: deletions before it may be gone, so the client must resync from the start. The
 * cursor also carries the page's read time, so the next page includes what became visible
 * late at or before its position (feed-page.ts).
 *
 * With `Accept: text/event-stream` the same feed is a stream of server-sent events: what
 * changed after the cursor (`Last-Event-ID` wins over `since`), then every later change live.
 */
export function listChanges(
  db: Firestore,
  rules: AccessRules,
  options: {
    deadlineMs: number;
    tombstoneRetentionMs: number;
    /** The settle bound of live-changes.ts: how far back a page looks for late commits. */
    settleMs: number;
    now?: Clock;
    streams?: ChangeStreams;
  },
): RequestHandler {
  const now = options.now ?? systemClock;
  return async (request, response) => {
    const parsed = changesQuerySchema.safeParse(request.query, { reportInput: true });
    if (!parsed.success) {
      throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
    }
    const { collection, limit } = parsed.data;
    const feed = feedOf(db, rules, userOf(request), collection);
    const streaming = options.streams !== undefined && wantsEventStream(request);
    const since = cursorFrom(request, parsed.data.since, streaming);
    if (since) assertWithinRetention(since, now, options.tombstoneRetentionMs);
    if (streaming && options.streams) {
      await options.streams.stream(feed, since, limit, response);
      return;
    }
    const page = await withDeadline("firestore.changes", options.deadlineMs, () =>
      readChanges(feed, since, { limit, settleMs: options.settleMs, now }),
    );
    response.json({
      changes: page.items.map((item) => itemOf(item.doc)),
      next_cursor: page.cursor ? encodeCursor(page.cursor) : null,
      has_more: page.hasMore,
    });
  };
}

/** True when the client asks for server-sent events. */
function wantsEventStream(request: Request): boolean {
  return (request.get("accept") ?? "")
    .split(",")
    .some((type) => type.split(";")[0]?.trim().toLowerCase() === "text/event-stream");
}

/**
 * The cursor to continue from: a stream's `Last-Event-ID` (what the client last received,
 * sent on every reconnect) wins over `since` (where the URL first started), else `since`.
 */
function cursorFrom(
  request: Request,
  since: string | undefined,
  streaming: boolean,
): Cursor | undefined {
  const lastEventId = streaming ? request.get("last-event-id")?.trim() : undefined;
  if (lastEventId) return decodeCursor(lastEventId, "Last-Event-ID");
  return since ? decodeCursor(since) : undefined;
}
