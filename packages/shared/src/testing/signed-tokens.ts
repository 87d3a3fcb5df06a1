import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type JwksOptions, jwksFetcher, type KeyFetcher } from "../jwt.ts";

/**
 * A local RSA key standing in for Google's token signing keys in production-mode tests, its
 * public half served as a JWKS over HTTP on loopback as Google serves its own.
 */
export interface SigningKit {
  /** The loopback URL of the kit's JWKS. */
  jwksUrl: string;
  /** The kit's keys fetched from `jwksUrl` (each call a new cache, with `options`). */
  fetchKeys(options?: JwksOptions): KeyFetcher;
  /** How many times the JWKS has been fetched. */
  fetches(): number;
  /** Makes a key under `kid` that tokens can be signed with, not yet in the JWKS. */
  createKey(kid: string): void;
  /** Adds the key of `kid` to the JWKS (making it if need be), as Google does when it rotates. */
  publish(kid: string): void;
  /** An RS256 JWT over `payload`, signed with `key` or the key of `kid` (default `k1`). */
  sign(
    payload: object,
    options?: { key?: KeyObject | undefined; kid?: string | undefined },
  ): string;
  /** Firebase ID token claims for `uid` in `projectId`, valid for an hour from `now`. */
  claims(projectId: string, uid: string, now?: number): Record<string, unknown>;
  /** Stops serving the JWKS. */
  close(): Promise<void>;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Makes a fresh signing key (kid `k1`) and serves its JWKS on loopback. */
export async function signingKit(): Promise<SigningKit> {
  const keys = new Map<string, { privateKey: KeyObject; jwk: object }>();
  const published: object[] = [];
  // Making an RSA key takes a while on a busy machine: tests that time a cooldown make theirs first.
  const createKey = (kid: string) => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = { ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
    keys.set(kid, { privateKey, jwk });
  };
  const publish = (kid: string) => {
    if (!keys.has(kid)) createKey(kid);
    published.push((keys.get(kid) as { jwk: object }).jwk);
  };
  publish("k1");
  let fetches = 0;
  const server = createServer((_request, response) => {
    fetches++;
    response.setHeader("content-type", "application/json");
    response.setHeader("cache-control", "public, max-age=3600");
    response.end(JSON.stringify({ keys: published }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return {
    jwksUrl,
    fetchKeys: (options) => jwksFetcher(jwksUrl, options),
    fetches: () => fetches,
    createKey,
    publish,
    sign: (payload, { key, kid = "k1" } = {}) => {
      const signer = key ?? (keys.get(kid) ?? keys.get("k1"))?.privateKey;
      if (!signer) throw new Error("signingKit: no key k1");
      const head = `${encode({ alg: "RS256", kid, typ: "JWT" })}.${encode(payload)}`;
      return `${head}.${sign("RSA-SHA256", Buffer.from(head), signer).toString("base64url")}`;
    },
    claims: (projectId, uid, now = Math.floor(Date.now() / 1_000)) => ({
      iss: `https://securetoken.google.com/${projectId}`,
      aud: projectId,
      sub: uid,
      user_id: uid,
      iat: now - 10,
      exp: now + 3_600,
    }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
