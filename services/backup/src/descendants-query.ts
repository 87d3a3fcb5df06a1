import type { Readable } from "node:stream";
import {
  FieldPath,
  type Firestore,
  Query,
  type QueryDocumentSnapshot,
  type Timestamp,
} from "@google-cloud/firestore";
import { AppError } from "@syncstack/shared";

// The smallest document id Firestore orders; what the client's recursiveDelete bounds with.
const minId = "__id-9223372036854775808__";

interface QueryInternals {
  _queryOptions: { parentPath: unknown; with(settings: Record<string, unknown>): unknown };
}

/**
 * A query for every document of a root collection and of all its subcollections at any
 * depth, in path order: the kindless all-descendants query the client's own recursiveDelete
 * uses. The client exposes no public constructor for it (hence the internals, pinned by the
 * catalog version and covered by the emulator round trip); listing subcollections per
 * document instead would cost one call per document.
 */
export function descendantsQuery(db: Firestore, collection: string): Query {
  const internals = db.collection(collection) as unknown as QueryInternals;
  const options = internals._queryOptions.with({
    parentPath: internals._queryOptions.parentPath,
    collectionId: collection,
    allDescendants: true,
    kindless: true,
  });
  const QueryClass = Query as unknown as new (db: Firestore, options: unknown) => Query;
  const nul = String.fromCharCode(0);
  return new QueryClass(db, options)
    .where(FieldPath.documentId(), ">=", `${collection}/${minId}`)
    .where(FieldPath.documentId(), "<", `${collection}${nul}/${minId}`);
}

interface StreamInternals {
  /** The client's own RunQuery stream at a read time: one `{document?}` per response. */
  _stream(readTime: Timestamp): Readable;
}

/**
 * Every document of a query at one read time, one at a time: the query is read
 * `pageSize` documents a page, each page a RunQuery at `readTime` streamed as it arrives
 * (the client's public `stream()` takes no read time, hence its internal `_stream`), the
 * next page starting after the last document. Documents flow through with the consumer's
 * backpressure and none is kept, so what the export holds does not grow with the page or
 * the collection. Waiting longer than `idleDeadlineMs` for a document fails the read.
 */
export async function* documentsAt(
  query: Query,
  readTime: Timestamp,
  pageSize: number,
  idleDeadlineMs: number,
): AsyncGenerator<QueryDocumentSnapshot> {
  let after: QueryDocumentSnapshot | undefined;
  for (;;) {
    const page = (after ? query.startAfter(after) : query).limit(pageSize);
    const responses = (page as unknown as StreamInternals)._stream(readTime);
    // Only time spent waiting on Firestore counts, not the consumer's while it holds a document.
    let waiting = true;
    const stall = setTimeout(function check() {
      if (!waiting) return void stall.refresh();
      responses.destroy(
        new AppError(
          "deadline_exceeded",
          `firestore.backup.page: no document for ${idleDeadlineMs} ms`,
        ),
      );
    }, idleDeadlineMs);
    let count = 0;
    try {
      for await (const response of responses as AsyncIterable<{
        document?: QueryDocumentSnapshot;
      }>) {
        if (!response.document) continue;
        count++;
        after = response.document;
        waiting = false;
        yield response.document;
        waiting = true;
        stall.refresh();
      }
    } finally {
      clearTimeout(stall);
    }
    if (count < pageSize) return;
  }
}
