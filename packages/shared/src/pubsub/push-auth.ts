import type { RequestHandler } from "express";
import { type BaseConfig, ConfigError } from "../config.ts";
import { AppError } from "../errors.ts";
import {
  checkLifetime,
  jwksFetcher,
  type KeyFetcher,
  rs256Verifier,
  unauthenticated,
} from "../jwt.ts";

/** Where Google publishes the keys that sign the OIDC tokens Pub/Sub push sends. */
export const googleOidcJwksUrl = "https://www.googleapis.com/oauth2/v3/certs";

const googleIssuers = new Set(["https://accounts.google.com", "accounts.google.com"]);

export interface PushAuthOptions {
  /** The `aud` the subscription puts in its tokens; unset, the push endpoint's URL (Pub/Sub's default). */
  audience?: string | undefined;
  /** The service account the push subscriptions sign their tokens as. */
  serviceAccount: string;
  fetchKeys?: KeyFetcher;
  now?: () => number;
}

/** Checks a push request's token; `endpoint` is the URL the request was sent to. */
export type PushTokenVerifier = (token: string, endpoint: string) => Promise<void>;

/**
 * Verifies the Google-signed OIDC token of a Pub/Sub push: RS256 signature against Google's
 * keys, issuer, audience, lifetime, and the push service account's verified email.
 */
export function pushTokenVerifier(options: PushAuthOptions): PushTokenVerifier {
  const now = options.now ?? (() => Date.now() / 1_000);
  const verifySignature = rs256Verifier(options.fetchKeys ?? jwksFetcher(googleOidcJwksUrl), now);
  return async (token, endpoint) => {
    const claims = await verifySignature(token);
    if (!googleIssuers.has(String(claims.iss))) {
      throw unauthenticated("the push token's issuer must be https://accounts.google.com");
    }
    const audience = options.audience ?? endpoint;
    if (claims.aud !== audience) {
      throw unauthenticated(`the push token's audience must be ${audience}`);
    }
    checkLifetime(claims, now());
    if (claims.email !== options.serviceAccount || claims.email_verified !== true) {
      throw new AppError(
        "permission_denied",
        "the push token is not from the push service account (email, email_verified)",
      );
    }
  };
}

/** Express middleware: a push without a valid token is refused (401/403) before anything runs. */
export function requirePushToken(verify: PushTokenVerifier): RequestHandler {
  return async (request, _response, next) => {
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "");
    if (!match?.[1]) {
      throw unauthenticated(
        "a push needs an Authorization: Bearer <Google-signed OIDC token> header",
      );
    }
    await verify(match[1], `${request.protocol}://${request.get("host")}${request.originalUrl}`);
    next();
  };
}

type PushAuthConfig = Pick<
  BaseConfig,
  "PUSH_AUTH" | "PUSH_AUDIENCE" | "PUSH_SERVICE_ACCOUNT" | "K_SERVICE"
>;

/** True when push endpoints require tokens: `PUSH_AUTH`, by default on Cloud Run only. */
export function pushAuthEnabled(config: PushAuthConfig): boolean {
  return (config.PUSH_AUTH ?? (config.K_SERVICE === undefined ? "off" : "on")) === "on";
}

/**
 * The push token verifier the configuration asks for, or undefined when push authentication
 * is off (locally: the emulator sends no token). Throws a ConfigError naming what is missing.
 */
export function pushTokenVerifierFor(
  config: PushAuthConfig,
  fetchKeys?: KeyFetcher,
): PushTokenVerifier | undefined {
  if (!pushAuthEnabled(config)) return undefined;
  if (config.PUSH_SERVICE_ACCOUNT === undefined) {
    throw new ConfigError(
      "PUSH_SERVICE_ACCOUNT is required when push authentication is on (PUSH_AUTH=on, the default on Cloud Run): the service account Pub/Sub signs push tokens as",
    );
  }
  return pushTokenVerifier({
    audience: config.PUSH_AUDIENCE,
    serviceAccount: config.PUSH_SERVICE_ACCOUNT,
    ...(fetchKeys ? { fetchKeys } : {}),
  });
}
