import { AppError, requireUser, type TokenVerifier, userOf } from "@syncstack/shared";
import type { RequestHandler } from "express";

/**
 * A verified Firebase ID token with the claim `admin: true`: 401 without a valid token, 403
 * for anyone else. Every console route sits behind it.
 */
export function requireAdmin(verifyToken: TokenVerifier): RequestHandler[] {
  return [
    requireUser(verifyToken),
    (request, _response, next) => {
      if (userOf(request).claims.admin !== true) {
        throw new AppError(
          "permission_denied",
          "the console is for admins: the token needs the claim admin: true",
        );
      }
      next();
    },
  ];
}

/** The caller's `Authorization` header, passed on to the services' admin routes. */
export function bearerOf(request: { headers: { authorization?: string } }): string {
  return request.headers.authorization ?? "";
}
