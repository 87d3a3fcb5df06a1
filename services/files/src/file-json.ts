import type { DocumentSnapshot } from "@google-cloud/firestore";
import { firestoreJson as toJson } from "@syncstack/shared";

/** A stored thumbnail as the record lists it. */
interface StoredThumbnail {
  size: number;
  width?: number;
  height?: number;
}

/** The path that serves a file's thumbnail of `size` (GET /v1/files/{id}/thumbnails/{size}). */
export function thumbnailPath(id: string, size: number): string {
  return `/v1/files/${id}/thumbnails/${size}`;
}

/**
 * A file record as an answer: its id and fields as JSON, with each thumbnail's `url` (and
 * `thumbnail_url`, the smallest) the path of the route that serves it to the record's readers,
 * not the object in the private thumbnails bucket.
 */
export function fileJson(snapshot: DocumentSnapshot): Record<string, unknown> {
  const data = toJson(snapshot.data() ?? {}) as Record<string, unknown>;
  const stored = (snapshot.get("thumbnails") as StoredThumbnail[] | undefined) ?? [];
  const thumbnails = stored.map(({ size, width, height }) => ({
    size,
    width,
    height,
    url: thumbnailPath(snapshot.id, size),
  }));
  return {
    id: snapshot.id,
    ...data,
    thumbnail_url: thumbnails[0]?.url ?? null,
    thumbnails,
  };
}
