import { generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { KeyFetcher } from "../auth.ts";

/** A local RSA key standing in for Google's token signing keys in production-mode tests. */
export interface SigningKit {
  /** Serves the kit's public key as Google's JWKs endpoint would (kid `k1`). */
  fetchKeys: KeyFetcher;
  /** An RS256 JWT over `payload`, signed with the kit's key (or `key`), header `kid`. */
  sign(payload: object, options?: { key?: KeyObject; kid?: string }): string;
  /** Firebase ID token claims for `uid` in `projectId`, valid for an hour from `now`. */
  claims(projectId: string, uid: string, now?: number): Record<string, unknown>;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Makes a fresh signing key and what a test needs around it. */
export function signingKit(): SigningKit {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" };
  return {
    fetchKeys: async () => ({ keys: [jwk], maxAgeSeconds: 3_600 }),
    sign: (payload, { key = privateKey, kid = "k1" } = {}) => {
      const head = `${encode({ alg: "RS256", kid, typ: "JWT" })}.${encode(payload)}`;
      return `${head}.${sign("RSA-SHA256", Buffer.from(head), key).toString("base64url")}`;
    },
    claims: (projectId, uid, now = Math.floor(Date.now() / 1_000)) => ({
      iss: `https://securetoken.google.com/${projectId}`,
      aud: projectId,
      sub: uid,
      user_id: uid,
      iat: now - 10,
      exp: now + 3_600,
    }),
  };
}
