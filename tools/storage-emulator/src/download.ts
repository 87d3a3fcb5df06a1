import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { ApiError } from "./api-error.ts";
import type { Context } from "./context.ts";
import { isAbort } from "./receive-body.ts";
import type { ObjectRecord } from "./records.ts";

/** A byte range of an object, both ends inclusive. */
interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses `Range: bytes=a-b`, `bytes=a-` and the suffix form `bytes=-n` against `size`;
 * undefined means the whole object. Only the first range of a list is served.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  const match = /^bytes=(\d*)-(\d*)/.exec(header?.trim() ?? "");
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  const [, from = "", to = ""] = match;
  if (from === "") {
    const length = Math.min(Number(to), size);
    return { start: size - length, end: size - 1 };
  }
  const start = Number(from);
  const end = to === "" ? size - 1 : Math.min(Number(to), size - 1);
  if (start >= size || end < start) {
    throw new ApiError(
      416,
      "requestedRangeNotSatisfiable",
      "The requested range cannot be satisfied.",
    );
  }
  return { start, end };
}

/**
 * Streams an object's bytes (`alt=media`) with the headers the client relies on:
 * `x-goog-hash` for its checksum validation, which it only runs when
 * `x-goog-stored-content-encoding` says what it receives is what was stored.
 */
export async function sendMedia(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  record: ObjectRecord,
): Promise<void> {
  const gzipped = record.fields.contentEncoding === "gzip";
  // Cloud Storage unzips gzip objects for clients that do not accept gzip (and drops hashes).
  const unzip = gzipped && !/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
  const range = unzip ? undefined : parseRange(req.headers.range, record.size);
  const headers: Record<string, string | number> = {
    "Content-Type": record.fields.contentType ?? "application/octet-stream",
    "Cache-Control": record.fields.cacheControl ?? "private, max-age=0",
    ETag: `"${record.md5Hash}"`,
    "Last-Modified": new Date(record.updated).toUTCString(),
    "Accept-Ranges": "bytes",
    "X-Goog-Generation": record.generation,
    "X-Goog-Metageneration": record.metageneration,
    "X-Goog-Stored-Content-Encoding": record.fields.contentEncoding ?? "identity",
    "X-Goog-Stored-Content-Length": record.size,
    "X-Goog-Storage-Class": record.storageClass,
  };
  if (!unzip) headers["X-Goog-Hash"] = `crc32c=${record.crc32c},md5=${record.md5Hash}`;
  if (gzipped && !unzip) headers["Content-Encoding"] = "gzip";
  if (record.fields.contentDisposition) {
    headers["Content-Disposition"] = record.fields.contentDisposition;
  }
  if (record.fields.contentLanguage) headers["Content-Language"] = record.fields.contentLanguage;
  if (range) {
    headers["Content-Range"] = `bytes ${range.start}-${range.end}/${record.size}`;
    headers["Content-Length"] = range.end - range.start + 1;
  } else if (!unzip) {
    headers["Content-Length"] = record.size;
  }
  res.writeHead(range ? 206 : 200, headers);
  if (req.method === "HEAD" || record.size === 0) {
    res.end();
    return;
  }
  const bytes = ctx.blobs.read(record.blob, range?.start, range?.end);
  try {
    if (unzip) await pipeline(bytes, createGunzip(), res);
    else await pipeline(bytes, res);
  } catch (error) {
    if (!isAbort(error)) throw error;
  }
}
