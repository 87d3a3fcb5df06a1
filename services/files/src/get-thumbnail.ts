import { pipeline } from "node:stream/promises";
import type { Firestore } from "@google-cloud/firestore";
import type { Storage } from "@google-cloud/storage";
import { AppError, userOf, withDeadline } from "@syncstack/shared";
import type { RequestHandler } from "express";
import { assertNoQuery, noneMatch, readableFile } from "./file-access.ts";
import { storageError } from "./storage-error.ts";

const thumbnailNotFound = (id: string, size: string) =>
  new AppError("not_found", `thumbnail ${size} of file ${id} not found`);

const isNotFound = (error: unknown) => (error as { code?: unknown }).code === 404;

/**
 * `GET /v1/files/{id}/thumbnails/{size}`: streams a thumbnail from the thumbnails bucket to
 * whoever may read the file's record (the same 404 as a missing file otherwise; an unknown
 * size is a 404 too), with its content type and the strong ETag of its generation;
 * `If-None-Match` with it answers 304 without reading the object.
 */
export function getThumbnail(
  db: Firestore,
  storage: Storage,
  options: { bucket: string; deadlineMs: number },
): RequestHandler {
  return async (request, response) => {
    assertNoQuery(request.query);
    const id = String(request.params.id);
    const size = String(request.params.size);
    const snapshot = await readableFile(db, id, userOf(request), options.deadlineMs);
    const thumbnails = (snapshot.get("thumbnails") as { size: number; name: string }[]) ?? [];
    const thumbnail = thumbnails.find((t) => String(t.size) === size);
    if (!thumbnail) throw thumbnailNotFound(id, size);
    const file = storage.bucket(options.bucket).file(thumbnail.name);
    const [metadata] = await withDeadline(
      `storage.metadata ${thumbnail.name}`,
      options.deadlineMs,
      () => file.getMetadata(),
    ).catch((error: unknown) => {
      // Deleted a moment ago, with its record being marked deleted.
      if (isNotFound(error)) throw thumbnailNotFound(id, size);
      return storageError(`reading ${thumbnail.name}`)(error);
    });
    const etag = `"${metadata.generation ?? metadata.md5Hash}"`;
    response.set({ ETag: etag, "Cache-Control": "private, no-cache" });
    if (noneMatch(request.headers["if-none-match"], etag)) {
      response.status(304).end();
      return;
    }
    response.set({
      "Content-Type": metadata.contentType ?? "application/octet-stream",
      "Content-Length": String(metadata.size),
      "X-Content-Type-Options": "nosniff",
    });
    const bytes = storage
      .bucket(options.bucket)
      .file(thumbnail.name, { generation: metadata.generation })
      .createReadStream();
    try {
      await pipeline(bytes, response);
    } catch (error) {
      if (response.headersSent) {
        // Part of the body is out: all the client can be told is that it was cut short.
        response.destroy(error as Error);
        return;
      }
      response.removeHeader("Content-Length");
      if (isNotFound(error)) throw thumbnailNotFound(id, size);
      storageError(`reading ${thumbnail.name}`)(error);
    }
  };
}
