import type { Firestore } from "@google-cloud/firestore";
import {
  AppError,
  describeIssues,
  firestoreIdProblem,
  userOf,
  withDeadline,
} from "@syncstack/shared";
import type { RequestHandler } from "express";
import { z } from "zod";
import { userStatsCollection } from "./collections.ts";
import { toJson } from "./get-stats.ts";

const querySchema = z.strictObject({});

/**
 * `GET /v1/users/{uid}/stats` (`me` is the caller): the user's `user_stats` record as JSON,
 * for the user themself or an admin. Another user's record answers exactly as a missing one
 * does (404), so that nobody learns from it who has a record.
 */
export function getUserStats(db: Firestore, deadlineMs: number): RequestHandler {
  return async (request, response) => {
    const parsed = querySchema.safeParse(request.query);
    if (!parsed.success) {
      throw new AppError("invalid_argument", describeIssues(parsed.error, "query parameter"));
    }
    const caller = userOf(request);
    const asked = String((request.params as Record<string, string>).uid);
    const uid = asked === "me" ? caller.uid : asked;
    const problem = firestoreIdProblem(uid, "the uid");
    if (problem) throw new AppError("invalid_argument", problem);
    const notFound = () => new AppError("not_found", `no stats for user ${JSON.stringify(uid)}`);
    if (uid !== caller.uid && caller.claims.admin !== true) throw notFound();
    const record = await withDeadline("firestore.user_stats.get", deadlineMs, () =>
      db.collection(userStatsCollection).doc(uid).get(),
    );
    if (!record.exists) throw notFound();
    response.json({ uid, ...toJson(record.data() ?? {}) });
  };
}
