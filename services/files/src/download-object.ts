import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { finished } from "node:stream/promises";
import type { File } from "@google-cloud/storage";

/** How many leading bytes decide a file's type: file-type's sample size. */
const headBytes = 4_100;

/** The first bytes of an object, and where it was saved when `keep` wanted all of it. */
export type Download = { head: Buffer; path: string | undefined } | undefined;

/**
 * Streams an object generation to `path` with the client's CRC32C check, deciding from its
 * first bytes whether the rest is wanted at all: a file that gets no thumbnail is never
 * downloaded past its head. Undefined when that generation no longer exists.
 */
export async function downloadObject(
  file: File,
  path: string,
  keep: (head: Buffer) => Promise<boolean>,
): Promise<Download> {
  const stream = file.createReadStream({ validation: "crc32c" });
  let head = Buffer.alloc(0);
  let out: ReturnType<typeof createWriteStream> | undefined;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (out) {
        if (!out.write(chunk)) await once(out, "drain");
        continue;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < headBytes) continue;
      if (!(await keep(head))) {
        stream.destroy();
        return { head, path: undefined };
      }
      out = createWriteStream(path);
      out.write(head);
    }
  } catch (error) {
    out?.destroy();
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
  if (!out) {
    // The whole object is shorter than the head.
    if (!(await keep(head))) return { head, path: undefined };
    out = createWriteStream(path);
    out.write(head);
  }
  out.end();
  await finished(out);
  return { head, path };
}
