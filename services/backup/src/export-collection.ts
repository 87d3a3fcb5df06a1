import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { Firestore, Timestamp } from "@google-cloud/firestore";
import type { Bucket } from "@google-cloud/storage";
import { withDeadline } from "@syncstack/shared";
import { encodeFields } from "./codec.ts";
import { descendantsQuery, pagesAt } from "./descendants-query.ts";

/** What one exported collection object holds, as the manifest records it. */
export interface ExportedCollection {
  name: string;
  object: string;
  documents: number;
  bytes: number;
  sha256: string;
}

/** Options of one collection's export. */
export interface ExportOptions {
  db: Firestore;
  bucket: Bucket;
  collection: string;
  object: string;
  readTime: Timestamp;
  pageSize: number;
  /** Deadline of reading one page. */
  pageDeadlineMs: number;
  signal: AbortSignal;
}

/**
 * Streams a collection with all its subcollections to one gzip-compressed NDJSON object,
 * page by page at `readTime`: a line per document `{"path", "fields"}` with the fields in the
 * exact codec. Backpressure runs from the upload back to the reads, so memory is two pages
 * and the stream buffers however large the collection is.
 */
export async function exportCollection(options: ExportOptions): Promise<ExportedCollection> {
  const { db, bucket, collection, object, readTime, pageSize, signal } = options;
  const read = <T>(what: string, fn: () => Promise<T>) =>
    withDeadline(what, options.pageDeadlineMs, fn);
  let documents = 0;
  let bytes = 0;
  const hash = createHash("sha256");
  async function* lines() {
    for await (const page of pagesAt(
      db,
      descendantsQuery(db, collection),
      readTime,
      pageSize,
      read,
    )) {
      let chunk = "";
      for (const doc of page) {
        chunk += `${JSON.stringify({ path: doc.ref.path, fields: encodeFields(doc.data()) })}\n`;
      }
      documents += page.length;
      yield chunk;
    }
  }
  const measure = new Transform({
    transform(data: Buffer, _encoding, done) {
      hash.update(data);
      bytes += data.length;
      done(null, data);
    },
  });
  const upload = bucket.file(object).createWriteStream({
    resumable: false,
    contentType: "application/gzip",
    metadata: { metadata: { collection } },
  });
  await pipeline(lines, createGzip({ level: 6 }), measure, upload, { signal });
  return { name: collection, object, documents, bytes, sha256: hash.digest("hex") };
}
