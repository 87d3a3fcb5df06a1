import { createPublicKey, type JsonWebKey, type KeyObject, verify } from "node:crypto";
import { AppError } from "./errors.ts";

/** A JWT's payload once its signature is verified; claims are checked by the caller. */
export type JwtClaims = Record<string, unknown>;

/** Fetches a JWKS; the cache lifetime comes from Cache-Control. */
export type KeyFetcher = () => Promise<{
  keys: (JsonWebKey & { kid?: string })[];
  maxAgeSeconds: number;
}>;

/** Tolerated clock difference for `exp` and `iat`. */
export const clockSkewSeconds = 300;

/** An `unauthenticated` AppError (401) naming what is wrong with the token. */
export function unauthenticated(message: string): AppError {
  return new AppError("unauthenticated", message);
}

/** A fetcher of the JWKS at `url` (production only: nothing local reaches Google). */
export function jwksFetcher(url: string): KeyFetcher {
  return async () => {
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new AppError("unavailable", "could not fetch token signing keys");
    const maxAge = /max-age=(\d+)/.exec(response.headers.get("cache-control") ?? "")?.[1];
    const body = (await response.json()) as { keys: (JsonWebKey & { kid?: string })[] };
    return { keys: body.keys, maxAgeSeconds: Number(maxAge ?? 3_600) };
  };
}

/** Splits a compact JWT into its three parts. */
export function splitJwt(token: string): [string, string, string] {
  const parts = token.split(".");
  if (parts.length !== 3) throw unauthenticated("the token is not a JWT");
  return parts as [string, string, string];
}

/** Decodes a JWT header or payload. */
export function decodeJwtPart(part: string | undefined, what: string): JwtClaims {
  try {
    const value: unknown = JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) return value as JwtClaims;
  } catch {
    // reported below
  }
  throw unauthenticated(`the token's ${what} is not base64url JSON`);
}

/** Checks `exp` and `iat` against the clock, with `clockSkewSeconds` of tolerance. */
export function checkLifetime(payload: JwtClaims, now: number): void {
  if (typeof payload.exp !== "number" || payload.exp + clockSkewSeconds < now) {
    throw unauthenticated("the token has expired");
  }
  if (typeof payload.iat !== "number" || payload.iat - clockSkewSeconds > now) {
    throw unauthenticated("the token was issued in the future");
  }
}

/**
 * Verifies RS256 JWT signatures against the keys `fetchKeys` returns (cached for their
 * max-age) and returns the payload; the caller checks the claims.
 */
export function rs256Verifier(
  fetchKeys: KeyFetcher,
  now: () => number,
): (token: string) => Promise<JwtClaims> {
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
    const [header, payload, signature] = splitJwt(token);
    const { alg, kid } = decodeJwtPart(header, "header");
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
    return decodeJwtPart(payload, "payload");
  };
}
