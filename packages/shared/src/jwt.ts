import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from "jose";
import { AppError } from "./errors.ts";

/** A JWT's payload once its signature is verified; claims are checked by the caller. */
export type JwtClaims = JWTPayload;

/**
 * The keys token signatures are checked against: a JWKS fetched on first use, cached, and
 * fetched again for an unknown `kid` (see `jwksFetcher`).
 */
export type KeyFetcher = JWTVerifyGetKey;

export interface JwksOptions {
  /** After a fetch, an unknown `kid` does not fetch again for this long (default 30 s). */
  cooldownSeconds?: number;
  /** The keys are fetched again after this long even without an unknown `kid` (default 10 min). */
  cacheMaxAgeSeconds?: number;
}

/** Tolerated clock difference for `exp` and `iat`. */
export const clockSkewSeconds = 300;

/** An `unauthenticated` AppError (401) naming what is wrong with the token. */
export function unauthenticated(message: string): AppError {
  return new AppError("unauthenticated", message);
}

/**
 * The keys of the JWKS at `url` (production: nothing local reaches Google). A token whose `kid`
 * is not among them fetches the set again unless the last fetch is within the cooldown, and
 * concurrent verifications wait on the same fetch (jose's remote JWKS).
 */
export function jwksFetcher(url: string, options: JwksOptions = {}): KeyFetcher {
  const keySet = createRemoteJWKSet(new URL(url), {
    cooldownDuration: (options.cooldownSeconds ?? 30) * 1_000,
    cacheMaxAge: (options.cacheMaxAgeSeconds ?? 600) * 1_000,
    timeoutDuration: 5_000,
  });
  return async (header, token) => {
    if (typeof header.kid !== "string") throw unauthenticated("the token names no signing key");
    try {
      return await keySet(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys
      )
        throw unauthenticated("the token was signed by an unknown key");
      throw new AppError("unavailable", "could not fetch token signing keys", { cause: error });
    }
  };
}

/** The header and payload of a JWT, unverified (emulator tokens carry no signature). */
export function decodeUnverified(token: string): { alg: unknown; payload: JwtClaims } {
  try {
    return { alg: decodeProtectedHeader(token).alg, payload: decodeJwt(token) };
  } catch {
    throw unauthenticated("the token is not a JWT (three base64url JSON parts)");
  }
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

/** The unauthenticated error saying what jose found wrong with a token. */
function refusal(error: errors.JOSEError): AppError {
  if (error instanceof errors.JOSEAlgNotAllowed)
    return unauthenticated("the token must be signed with RS256");
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return unauthenticated("the token's signature is invalid");
  if (error instanceof errors.JWTExpired) return unauthenticated("the token has expired");
  if (error instanceof errors.JWTClaimValidationFailed)
    return unauthenticated(`the token's ${error.claim} claim is invalid (${error.reason})`);
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return unauthenticated("the token is not a JWT (three base64url JSON parts)");
  return unauthenticated(`the token could not be verified: ${error.message}`);
}

/**
 * Verifies RS256 JWT signatures against `keys` with jose and returns the payload; the caller
 * checks the claims. jose also refuses an `exp` or `nbf` outside `clockSkewSeconds` of `now`.
 */
export function rs256Verifier(
  keys: KeyFetcher,
  now: () => number,
): (token: string) => Promise<JwtClaims> {
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: ["RS256"],
        clockTolerance: clockSkewSeconds,
        currentDate: new Date(now() * 1_000),
      });
      return payload;
    } catch (error) {
      throw error instanceof errors.JOSEError ? refusal(error) : error;
    }
  };
}
