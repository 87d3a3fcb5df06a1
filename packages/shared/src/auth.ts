import { createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";
import type { RequestHandler } from "express";
import type { BaseConfig } from "./config.ts";
import { AppError } from "./errors.ts";

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

const clockSkewSeconds = 300;

function unauthenticated(message: string): AppError {
  return new AppError("unauthenticated", message);
}

function decodePart(part: string | undefined, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw unauthenticated(`the token's ${what} is not base64url JSON`);
}

/** Checks the claims every Firebase ID token must carry for `projectId`. */
function checkClaims(payload: Record<string, unknown>, projectId: string, now: number): AuthUser {
  if (payload.iss !== `https://securetoken.google.com/${projectId}`) {
    throw unauthenticated(`the token's issuer must be https://securetoken.google.com/${projectId}`);
  }
  if (payload.aud !== projectId) throw unauthenticated(`the token's audience must be ${projectId}`);
  if (typeof payload.exp !== "number" || payload.exp + clockSkewSeconds < now) {
    throw unauthenticated("the token has expired");
  }
  if (typeof payload.iat !== "number" || payload.iat - clockSkewSeconds > now) {
    throw unauthenticated("the token was issued in the future");
  }
  if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 128) {
    throw unauthenticated("the token has no subject (uid)");
  }
  return { uid: payload.sub, claims: payload };
}

function split(token: string): [string, string, string] {
  const parts = token.split(".");
  if (parts.length !== 3) throw unauthenticated("the token is not a JWT");
  return parts as [string, string, string];
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
    const [header, payload] = split(token);
    const alg = decodePart(header, "header").alg;
    if (alg !== "none" && alg !== "RS256")
      throw unauthenticated(`the token's algorithm ${String(alg)} is not accepted`);
    return checkClaims(decodePart(payload, "payload"), projectId, now());
  };
}

/** Fetches Google's signing keys as JWKs; the cache lifetime comes from Cache-Control. */
export type KeyFetcher = () => Promise<{
  keys: (JsonWebKey & { kid?: string })[];
  maxAgeSeconds: number;
}>;

/** Fetches the JWKs from Google (production only: nothing local reaches it). */
export const fetchGoogleKeys: KeyFetcher = async () => {
  const response = await fetch(googleJwksUrl, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new AppError("unavailable", "could not fetch token signing keys");
  const maxAge = /max-age=(\d+)/.exec(response.headers.get("cache-control") ?? "")?.[1];
  const body = (await response.json()) as { keys: (JsonWebKey & { kid?: string })[] };
  return { keys: body.keys, maxAgeSeconds: Number(maxAge ?? 3_600) };
};

/** Verifies RS256 signatures against Google's keys, then the claims, as the Admin SDK does. */
export function googleTokenVerifier(
  projectId: string,
  fetchKeys: KeyFetcher = fetchGoogleKeys,
  now = () => Date.now() / 1_000,
): TokenVerifier {
  let cache: { keys: Map<string, KeyObject>; until: number } | undefined;
  const keys = async (): Promise<Map<string, KeyObject>> => {
    if (cache && cache.until > now()) return cache.keys;
    const fetched = await fetchKeys();
    const map = new Map<string, KeyObject>();
    for (const jwk of fetched.keys)
      if (jwk.kid) map.set(jwk.kid, createPublicKey({ key: jwk, format: "jwk" }));
    cache = { keys: map, until: now() + fetched.maxAgeSeconds };
    return map;
  };
  return async (token) => {
    const [header, payload, signature] = split(token);
    const { alg, kid } = decodePart(header, "header");
    if (alg !== "RS256") throw unauthenticated("the token must be signed with RS256");
    const key = typeof kid === "string" ? (await keys()).get(kid) : undefined;
    if (!key) throw unauthenticated("the token was signed by an unknown key");
    const valid = verify(
      "RSA-SHA256",
      Buffer.from(`${header}.${payload}`),
      key,
      Buffer.from(signature, "base64url"),
    );
    if (!valid) throw unauthenticated("the token's signature is invalid");
    return checkClaims(decodePart(payload, "payload"), projectId, now());
  };
}

const users = new WeakMap<object, AuthUser>();

/** Express middleware: a valid `Authorization: Bearer <Firebase ID token>` or 401. */
export function requireUser(verifyToken: TokenVerifier): RequestHandler {
  return async (request, _response, next) => {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1])
      throw unauthenticated("an Authorization: Bearer <Firebase ID token> header is required");
    users.set(request, await verifyToken(match[1]));
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
