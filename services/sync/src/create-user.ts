import { AppError, describeIssues, type Publisher, userCreated, userOf } from "@syncstack/shared";
import type { RequestHandler } from "express";

/** The body: `user-created`'s payload, with no field it does not know (a message may carry more). */
const profileSchema = userCreated.schema.strict();

/**
 * `POST /v1/users`: for identity systems that call HTTP. Validates the profile and publishes
 * `user-created`; a caller may announce only its own uid unless its token has `admin: true`.
 */
export function createUser(publisher: Publisher): RequestHandler {
  return async (request, response) => {
    const parsed = profileSchema.safeParse(request.body, { reportInput: true });
    if (!parsed.success) throw new AppError("invalid_argument", describeIssues(parsed.error));
    const caller = userOf(request);
    if (parsed.data.uid !== caller.uid && caller.claims.admin !== true) {
      throw new AppError(
        "permission_denied",
        "uid must be the caller's own uid (or the token must have admin: true)",
      );
    }
    const messageId = await publisher.publish(userCreated, parsed.data);
    response.status(202).json({ success: true, uid: parsed.data.uid, message_id: messageId });
  };
}
