import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import type { Bucket } from "@google-cloud/storage";
import { AppError, withDeadline } from "@syncstack/shared";
import type { Manifest } from "./manifest.ts";

/** Streams an object through sha256; resolves its digest and size. */
export async function digestObject(
  bucket: Bucket,
  object: string,
  deadlineMs: number,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  await withDeadline(`storage.backup.verify ${object}`, deadlineMs, (signal) =>
    pipeline(
      bucket.file(object).createReadStream(),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) {
          hash.update(chunk);
          bytes += chunk.length;
        }
      },
      { signal },
    ),
  );
  return { sha256: hash.digest("hex"), bytes };
}

/**
 * Checks every object a manifest lists against its sha256 and size before anything is
 * written; a missing or changed object makes the whole backup refused as damaged.
 */
export async function verifyBackup(
  bucket: Bucket,
  manifest: Manifest,
  deadlineMs: number,
): Promise<void> {
  for (const entry of manifest.collections) {
    let actual: { sha256: string; bytes: number };
    try {
      actual = await digestObject(bucket, entry.object, deadlineMs);
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
      throw damaged(manifest, `its object ${entry.object} is missing`);
    }
    if (actual.sha256 !== entry.sha256 || actual.bytes !== entry.bytes) {
      throw damaged(manifest, `its object ${entry.object} does not match its checksum`);
    }
  }
}

function damaged(manifest: Manifest, why: string): AppError {
  return new AppError("unprocessable", `backup ${manifest.backup_id} is damaged: ${why}`, {
    details: { backup: manifest.backup_id },
  });
}
