import { createHash } from "node:crypto";

/** The `files` document id of an object: derived from bucket and name (names contain `/`). */
export function fileId(bucket: string, name: string): string {
  return createHash("sha256").update(`${bucket}/${name}`).digest("hex").slice(0, 40);
}

/** Where a client downloads an object: Cloud Storage's public URL, or the emulator's. */
export function publicUrl(base: string | undefined, bucket: string, name: string): string {
  if (!base)
    return `https://storage.googleapis.com/${bucket}/${name.split("/").map(encodeURIComponent).join("/")}`;
  return `${base.replace(/\/$/, "")}/storage/v1/b/${bucket}/o/${encodeURIComponent(name)}?alt=media`;
}

/** Compares object generations, which are 64-bit integers written as strings. */
export function compareGenerations(a: string, b: string): number {
  const difference = BigInt(a) - BigInt(b);
  return difference === 0n ? 0 : difference > 0n ? 1 : -1;
}
