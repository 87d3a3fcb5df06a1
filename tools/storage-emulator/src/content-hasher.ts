import { createHash } from "node:crypto";
import { Crc32c } from "@syncstack/shared/crc32c";
import { invalid } from "./api-error.ts";
import type { BlobStore } from "./blob-store.ts";

/** The two checksums Cloud Storage keeps for an object, base64 as in its resources. */
export interface Checksums {
  md5Hash: string;
  crc32c: string;
}

/** md5 and crc32c of bytes fed chunk by chunk, so an upload is hashed as it streams in. */
export class ContentHasher {
  readonly #md5 = createHash("md5");
  readonly #crc = new Crc32c();
  size = 0;

  update(chunk: Uint8Array): void {
    this.#md5.update(chunk);
    this.#crc.update(chunk);
    this.size += chunk.length;
  }

  /** Final checksums; the hasher cannot be fed afterwards. */
  digest(): Checksums {
    return { md5Hash: this.#md5.digest("base64"), crc32c: this.#crc.digest() };
  }
}

/** Hashes a stored blob again, for an upload session resumed after the emulator restarted. */
export async function hashBlob(blobs: BlobStore, id: string): Promise<ContentHasher> {
  const hasher = new ContentHasher();
  for await (const chunk of blobs.read(id)) hasher.update(chunk as Buffer);
  return hasher;
}

/**
 * Checksums a client sent in `x-goog-hash` (`crc32c=...,md5=...`), so a final upload request
 * whose bytes arrived damaged is refused as Cloud Storage refuses it.
 */
export function parseHashHeader(header: string | undefined): Partial<Checksums> {
  const found: Partial<Checksums> = {};
  for (const pair of (header ?? "").split(",")) {
    const at = pair.indexOf("=");
    const kind = pair.slice(0, at).trim().toLowerCase();
    const value = pair.slice(at + 1).trim();
    if (kind === "md5") found.md5Hash = value;
    if (kind === "crc32c") found.crc32c = value;
  }
  return found;
}

/** The checksums an object resource from the client declares, if any. */
export function declaredChecksums(resource: unknown): Partial<Checksums> {
  if (typeof resource !== "object" || resource === null) return {};
  const { md5Hash, crc32c } = resource as Record<string, unknown>;
  return {
    ...(typeof md5Hash === "string" ? { md5Hash } : {}),
    ...(typeof crc32c === "string" ? { crc32c } : {}),
  };
}

/** Refuses bytes that differ from what the client declared: a 400, as in Cloud Storage. */
export function verifyChecksums(actual: Checksums, ...declared: Partial<Checksums>[]): void {
  for (const claim of declared) {
    for (const kind of ["md5Hash", "crc32c"] as const) {
      const value = claim[kind];
      if (value !== undefined && value !== actual[kind]) {
        const name = kind === "md5Hash" ? "MD5" : "CRC32C";
        throw invalid(`Provided ${name} hash doesn't match calculated ${name} hash.`);
      }
    }
  }
}
