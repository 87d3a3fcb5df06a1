import type { DocumentData, Firestore } from "@google-cloud/firestore";
import {
  AppError,
  type Clock,
  describeIssues,
  firestoreJson,
  systemClock,
  userOf,
  withDeadline,
} from "@syncstack/shared";
import type { RequestHandler } from "express";
import { z } from "zod";
import { dailyStatsPath, historyCollection } from "./collections.ts";

const defaultRangeMs = 30 * 24 * 3_600_000;

const querySchema = z.strictObject({
  from: z.iso.datetime({ offset: true, error: "from must be an ISO 8601 date-time" }).optional(),
  to: z.iso.datetime({ offset: true, error: "to must be an ISO 8601 date-time" }).optional(),
  limit: z.coerce
    .number({ error: "limit must be a number" })
    .int("limit must be an integer")
    .min(1, "limit must be at least 1")
    .max(1_000, "limit must be at most 1000")
    .default(500),
});

/** A stats document as JSON: Firestore timestamps become ISO strings. */
export function toJson(data: DocumentData): Record<string, unknown> {
  return firestoreJson(data) as Record<string, unknown>;
}

/**
 * `GET /v1/stats?from=&to=&limit=`, for admins (token claim `admin: true`): the latest
 * tick's figures (null before the first tick) and the history of ticks in the range, oldest
 * first, to draw a trend. The range defaults to the 30 days up to `now`.
 */
export function getStats(
  db: Firestore,
  deadlineMs: number,
  now: Clock = systemClock,
): RequestHandler {
  return async (request, response) => {
    if (userOf(request).claims.admin !== true) {
      throw new AppError(
        "permission_denied",
        "app-wide statistics are for admins: the token needs the claim admin: true",
      );
    }
    const parsed = querySchema.safeParse(request.query, { reportInput: true });
    if (!parsed.success) {
      throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
    }
    const to = new Date(parsed.data.to ?? now());
    const from = parsed.data.from
      ? new Date(parsed.data.from)
      : new Date(to.getTime() - defaultRangeMs);
    if (from > to) throw new AppError("invalid_argument", "from must not be after to");
    const { limit } = parsed.data;
    const [latest, history] = await withDeadline("firestore.stats.get", deadlineMs, () =>
      Promise.all([
        db.doc(dailyStatsPath).get(),
        db
          .collection(historyCollection)
          .where("timestamp", ">=", from)
          .where("timestamp", "<=", to)
          .orderBy("timestamp")
          .limit(limit + 1)
          .get(),
      ]),
    );
    response.json({
      latest: latest.exists ? toJson(latest.data() ?? {}) : null,
      history: history.docs
        .slice(0, limit)
        .map((tick) => ({ tick: tick.id, ...toJson(tick.data()) })),
      from: from.toISOString(),
      to: to.toISOString(),
      has_more: history.size > limit,
    });
  };
}
