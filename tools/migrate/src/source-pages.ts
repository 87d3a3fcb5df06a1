import {
  FieldPath,
  type Firestore,
  type Query,
  type QueryDocumentSnapshot,
} from "@google-cloud/firestore";
import { decodeValue, encodeValue } from "@syncstack/shared/firestore-codec";
import type { Checkpoint } from "./checkpoint.ts";
import { orderingFields, type WhereClause } from "./parse-where.ts";

/** Where reading resumes: after this document (and its values of the ordering fields). */
export type Cursor = Checkpoint["after"];

/** A page of source documents and the cursor just past its last one. */
export interface SourcePage {
  docs: QueryDocumentSnapshot[];
  after: NonNullable<Cursor>;
  /** Which of the run's queries read the page's last document, from 1. */
  query: number;
}

/** The source collection filtered and in a stable order, read page by page from a cursor. */
export interface Source {
  /** How many documents are left after `cursor` (a count() aggregation). */
  countAfter(cursor: Cursor): Promise<number>;
  /** Pages of `pageSize` documents; the first query asks for `firstQueryPages` of them. */
  pages(cursor: Cursor, pageSize: number, firstQueryPages: number): AsyncGenerator<SourcePage>;
}

// Each query costs a fixed round of work (the emulator materializes and sorts the whole
// collection for every one, ~0.5 s at 50,000 documents), and the client cannot cancel one
// half-read (see drain). So queries are few and long: after the first, each streams about
// half a minute of migrating at the pace seen so far, none near RunQuery's 5-minute deadline
// (the client restarts a stream cut by it from the last document, for 10 minutes), the drain
// bounded.
const querySeconds = 30;
const minQueryPages = 4;
const maxQueryPages = 100;
// A run that writes each document once is bound by its writes, 500 documents/s and up even
// under production's ramp-up, so 100 pages take under two minutes. A transform, --recursive or
// --delete-source (two writes a document) may be slower, and a query waits on the pages it has
// sent: 20 pages, then sized by the pace.
const writeBoundFirstPages = maxQueryPages;
const slowFirstPages = 20;

/** How many pages the first query of a run asks for: see writeBoundFirstPages. */
export function firstQueryPages(run: {
  transform: boolean;
  recursive: boolean;
  deleteSource: boolean;
}): number {
  return run.transform || run.recursive || run.deleteSource ? slowFirstPages : writeBoundFirstPages;
}

/**
 * The source `collection` with `where` filters, ordered by any inequality fields (Firestore
 * requires them first) and then the document id, which makes the order total and resumable.
 */
export function openSource(
  db: Firestore,
  collection: string,
  where: readonly WhereClause[],
): Source {
  const fields = orderingFields(where);
  let query: Query = db.collection(collection);
  for (const { field, op, value } of where) query = query.where(field, op, value);
  for (const field of fields) query = query.orderBy(field);
  query = query.orderBy(FieldPath.documentId());
  const after = (cursor: Cursor) =>
    cursor
      ? query.startAfter(...cursor.values.map((value) => decodeValue(db, value)), cursor.id)
      : query;
  const cursorOf = (doc: QueryDocumentSnapshot) => ({
    id: doc.id,
    values: fields.map((field) => encodeValue(doc.get(field))),
  });

  return {
    // count() answers a bigint on a client made with useBigInt.
    countAfter: async (cursor) => Number((await after(cursor).count().get()).data().count),
    async *pages(start, pageSize, firstPages) {
      let cursor = start;
      let pages = firstPages;
      let docs: QueryDocumentSnapshot[] = [];
      for (let query = 1; ; query++) {
        const started = performance.now();
        // One past whole pages: a source that fits ends in this query, not in an empty next
        // one (another whole scan on the emulator, a round trip in production). What is left
        // of a page at the end of a query is filled by the next.
        const limit = pageSize * pages + 1;
        let received = 0;
        let last: QueryDocumentSnapshot | undefined;
        // stream() is typed as a plain ReadableStream; it yields document snapshots.
        const stream = after(cursor).limit(limit).stream() as AsyncIterable<QueryDocumentSnapshot>;
        const documents = stream[Symbol.asyncIterator]();
        let ended = false;
        try {
          for (let next = await documents.next(); !next.done; next = await documents.next()) {
            last = next.value;
            docs.push(last);
            received++;
            if (docs.length === pageSize) {
              yield { docs, after: cursorOf(last), query };
              docs = [];
            }
          }
          ended = true;
        } finally {
          if (!ended) await drain(documents);
        }
        if (last) cursor = cursorOf(last);
        if (received < limit) {
          // An empty last query leaves what the one before it read.
          const readBy = received > 0 ? query : query - 1;
          if (docs.length > 0 && cursor) yield { docs, after: cursor, query: readBy };
          return;
        }
        const perSecond = (received * 1_000) / (performance.now() - started);
        pages = Math.min(
          maxQueryPages,
          Math.max(minQueryPages, Math.round((perSecond * querySeconds) / pageSize)),
        );
      }
    },
  };
}

// Stopped early (Ctrl-C, an error): the client does not cancel a query whose stream is
// destroyed half-read, and the open call would hold up terminate() for ever. Reading the
// rest of this query (at most maxQueryPages pages) lets it end.
async function drain(documents: AsyncIterator<unknown>): Promise<void> {
  try {
    while (!(await documents.next()).done) {
      // Discarded: they are read again after the checkpoint by --resume.
    }
  } catch {
    // The query failed: its call is over, which is all this wanted.
  }
}
