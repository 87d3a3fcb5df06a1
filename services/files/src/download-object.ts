import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { finished } from "node:stream/promises";
import type { File } from "@google-cloud/storage";
import { Crc32c } from "@syncstack/shared/crc32c";

/** How many leading bytes decide a file's type: file-type's sample size. */
const headBytes = 4_100;

/** The first bytes of an object, and where it was saved when `keep` wanted all of it. */
export type Download = { head: Buffer; path: string | undefined } | undefined;

/**
 * Streams an object generation to `path`, checking its CRC32C, and deciding from its first
 * bytes whether the rest is wanted at all: a file that gets no thumbnail is never downloaded
 * past its head. Undefined when that generation no longer exists.
 *
 * One plain `alt=media` request, not the client's createReadStream: that one hands the same
 * response body to three pipelines (node-fetch's, teeny-request's and its own validation's),
 * which reads every download twice and adds 11 error listeners to the body each time.
 */
export async function downloadObject(
  file: File,
  path: string,
  keep: (head: Buffer) => boolean | Promise<boolean>,
): Promise<Download> {
  const abort = new AbortController();
  const response = await fetch(await mediaUrl(file), {
    // Stored gzip is unzipped by Cloud Storage, as the client asks for it; hashes then go.
    headers: { "accept-encoding": "identity", ...(await authorization(file)) },
    signal: abort.signal,
  });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw Object.assign(new Error(`GET ${file.name}: ${response.status} ${text.slice(0, 200)}`), {
      code: response.status,
    });
  }
  const expected = checksumOf(response.headers);
  const crc = new Crc32c();
  let head = Buffer.alloc(0);
  let out: ReturnType<typeof createWriteStream> | undefined;
  const body = response.body ? Readable.fromWeb(response.body) : Readable.from([]);
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      crc.update(chunk);
      if (out) {
        if (!out.write(chunk)) await once(out, "drain");
        continue;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < headBytes) continue;
      if (!(await keep(head))) {
        abort.abort();
        body.destroy();
        return { head, path: undefined };
      }
      out = createWriteStream(path);
      out.write(head);
    }
  } catch (error) {
    out?.destroy();
    throw error;
  }
  if (expected !== undefined && crc.digest() !== expected) {
    out?.destroy();
    throw Object.assign(new Error(`${file.name}: the downloaded bytes fail their CRC32C check`), {
      code: "CONTENT_DOWNLOAD_MISMATCH",
    });
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

/** The JSON API media URL of the file's generation, on the client's endpoint (the emulator's). */
async function mediaUrl(file: File): Promise<string> {
  const url = new URL(
    `/storage/v1/b/${encodeURIComponent(file.bucket.name)}/o/${encodeURIComponent(file.name)}`,
    file.storage.apiEndpoint,
  );
  url.searchParams.set("alt", "media");
  if (file.generation !== undefined) url.searchParams.set("generation", String(file.generation));
  return url.toString();
}

/** The client's credentials, except against a custom endpoint (an emulator), as the client does. */
async function authorization(file: File): Promise<Record<string, string>> {
  const { storage } = file;
  if (storage.customEndpoint && !storage.useAuthWithCustomEndpoint) return {};
  const token = await storage.authClient.getAccessToken();
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** The stored bytes' CRC32C from `x-goog-hash`, when what arrives is what was stored. */
function checksumOf(headers: Headers): string | undefined {
  const stored = headers.get("x-goog-stored-content-encoding") ?? "identity";
  if (stored !== "identity" || headers.get("content-encoding")) return undefined;
  return /(?:^|,)\s*crc32c=([^,]+)/.exec(headers.get("x-goog-hash") ?? "")?.[1];
}
