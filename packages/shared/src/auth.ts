import type { RequestHandler } from "express";
import type { BaseConfig } from "./config.ts";
import { AppError } from "./errors.ts";
import { documentOfRequest, noteRequest } from "./http/request-facts.ts";
import {
  checkLifetime,
  decodeUnverified,
  type JwtClaims,
  jwksFetcher,
  type KeyFetcher,
  rs256Verifier,
  unauthenticated,
} from "./jwt.ts";

export type { KeyFetcher } from "./jwt.ts";

/** The caller a verified Firebase ID token names. */
export interface AuthUser {
  uid: string;
  claims: Record<string, unknown>;
}

/** Verifies a Firebase ID token and returns its user; throws an `unauthenticated` AppError. */
export type TokenVerifier = (token: string) => Promise<AuthUser>;

/** Where Google publishes the keys that sign Firebase ID tokens. */
export const googleJwksUrl =
  "https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com";

/** Checks the claims every Firebase ID token must carry for `projectId`. */
function checkClaims(payload: JwtClaims, projectId: string, now: number): AuthUser {
  if (payload.iss !== `https://securetoken.google.com/${projectId}`) {
    throw unauthenticated(`the token's issuer must be https://securetoken.google.com/${projectId}`);
  }
  if (payload.aud !== projectId) throw unauthenticated(`the token's audience must be ${projectId}`);
  checkLifetime(payload, now);
  if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 128) {
    throw unauthenticated("the token has no subject (uid)");
  }
  return { uid: payload.sub, claims: payload };
}

/**
 * Accepts the unsigned tokens the Firebase Auth emulator issues (header `{"alg":"none"}`),
 * as the Admin SDK does in emulator mode; issuer, audience and expiry are still checked.
 */
export function emulatorTokenVerifier(
  projectId: string,
  now = () => Date.now() / 1_000,
): TokenVerifier {
  return async (token) => {
    const { alg, payload } = decodeUnverified(token);
    if (alg !== "none" && alg !== "RS256")
      throw unauthenticated(`the token's algorithm ${String(alg)} is not accepted`);
    return checkClaims(payload, projectId, now());
  };
}

/** Google's Firebase ID token keys, fetched as needed (production only: nothing local reaches it). */
export const fetchGoogleKeys: KeyFetcher = jwksFetcher(googleJwksUrl);

/** Verifies RS256 signatures against Google's keys, then the claims, as the Admin SDK does. */
export function googleTokenVerifier(
  projectId: string,
  fetchKeys: KeyFetcher = fetchGoogleKeys,
  now = () => Date.now() / 1_000,
): TokenVerifier {
  const verifySignature = rs256Verifier(fetchKeys, now);
  return async (token) => checkClaims(await verifySignature(token), projectId, now());
}

const users = new WeakMap<object, AuthUser>();

/** Express middleware: a valid `Authorization: Bearer <Firebase ID token>` or 401. */
export function requireUser(verifyToken: TokenVerifier): RequestHandler {
  return async (request, _response, next) => {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1])
      throw unauthenticated("an Authorization: Bearer <Firebase ID token> header is required");
    const user = await verifyToken(match[1]);
    users.set(request, user);
    noteRequest(request, { uid: user.uid, ...documentOfRequest(request) });
    next();
  };
}

/** The user `requireUser` verified for this request. */
export function userOf(request: object): AuthUser {
  const user = users.get(request);
  if (!user) throw new AppError("internal", "route is missing requireUser");
  return user;
}

/** The token verifier the configuration asks for; emulator tokens are refused on Cloud Run. */
export function tokenVerifierFor(
  config: Pick<BaseConfig, "GOOGLE_CLOUD_PROJECT" | "FIREBASE_AUTH_EMULATOR_HOST" | "K_SERVICE">,
): TokenVerifier {
  if (config.FIREBASE_AUTH_EMULATOR_HOST === undefined) {
    return googleTokenVerifier(config.GOOGLE_CLOUD_PROJECT);
  }
  if (config.K_SERVICE !== undefined) {
    throw new Error(
      "FIREBASE_AUTH_EMULATOR_HOST must not be set on Cloud Run: it makes unsigned tokens valid",
    );
  }
  return emulatorTokenVerifier(config.GOOGLE_CLOUD_PROJECT);
}
