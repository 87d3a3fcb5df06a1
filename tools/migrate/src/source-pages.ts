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
}

/** The source collection filtered and in a stable order, read page by page from a cursor. */
export interface Source {
  /** How many documents are left after `cursor` (a count() aggregation). */
  countAfter(cursor: Cursor): Promise<number>;
  pages(cursor: Cursor, pageSize: number): AsyncGenerator<SourcePage>;
}

// Each query costs a fixed round of work (the emulator scans the whole collection for every
// one, ~0.5 s at 50,000 documents), and the client cannot cancel one half-read (see drain).
// So the first query streams 20 pages and each later one about half a minute of migrating at
// the pace seen so far: few queries, none near RunQuery's 5-minute deadline, a bounded drain.
const firstQueryPages = 20;
const querySeconds = 30;
const minQueryPages = 4;
const maxQueryPages = 100;

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
    async *pages(start, pageSize) {
      let cursor = start;
      let limit = pageSize * firstQueryPages;
      for (;;) {
        const started = performance.now();
        let docs: QueryDocumentSnapshot[] = [];
        let received = 0;
        // stream() is typed as a plain ReadableStream; it yields document snapshots.
        const stream = after(cursor).limit(limit).stream() as AsyncIterable<QueryDocumentSnapshot>;
        const documents = stream[Symbol.asyncIterator]();
        let ended = false;
        try {
          for (let next = await documents.next(); !next.done; next = await documents.next()) {
            docs.push(next.value);
            received++;
            if (docs.length === pageSize) {
              cursor = cursorOf(next.value);
              yield { docs, after: cursor };
              docs = [];
            }
          }
          ended = true;
        } finally {
          if (!ended) await drain(documents);
        }
        const last = docs.at(-1);
        if (last) {
          cursor = cursorOf(last);
          yield { docs, after: cursor };
        }
        if (received < limit) return;
        const perSecond = (received * 1_000) / (performance.now() - started);
        const pages = Math.round((perSecond * querySeconds) / pageSize);
        limit = pageSize * Math.min(maxQueryPages, Math.max(minQueryPages, pages));
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
