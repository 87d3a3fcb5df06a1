import type { Firestore } from "@google-cloud/firestore";
import { userOf } from "@syncstack/shared";
import type { RequestHandler } from "express";
import { assertNoQuery, noneMatch, readableFile } from "./file-access.ts";
import { fileJson } from "./file-json.ts";

/**
 * `GET /v1/files/{id}`: one record, for its owner or an admin (anyone else gets the 404 of a
 * missing one), with the strong `ETag: "<version>"`; `If-None-Match` with it answers 304.
 */
export function getFile(db: Firestore, deadlineMs: number): RequestHandler {
  return async (request, response) => {
    assertNoQuery(request.query);
    const id = String(request.params.id);
    const snapshot = await readableFile(db, id, userOf(request), deadlineMs);
    const etag = `"${Number(snapshot.get("version") ?? 0)}"`;
    response.set({ ETag: etag, "Cache-Control": "private, no-cache" });
    if (noneMatch(request.headers["if-none-match"], etag)) {
      response.status(304).end();
      return;
    }
    response.json(fileJson(snapshot));
  };
}
