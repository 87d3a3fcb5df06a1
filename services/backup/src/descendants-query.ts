import {
  FieldPath,
  type Firestore,
  Query,
  type QueryDocumentSnapshot,
  type Timestamp,
} from "@google-cloud/firestore";

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

/**
 * Pages through a query at one read time (a read-only transaction reading at `readTime`
 * sends it with each page), fetching the next page while the caller consumes this one, so
 * at most two pages are in memory.
 */
export async function* pagesAt(
  db: Firestore,
  query: Query,
  readTime: Timestamp,
  pageSize: number,
  read: <T>(what: string, fn: () => Promise<T>) => Promise<T> = (_what, fn) => fn(),
): AsyncGenerator<QueryDocumentSnapshot[]> {
  const fetch = (after: QueryDocumentSnapshot | undefined) =>
    read("firestore.backup.page", () =>
      db.runTransaction(
        (transaction) => transaction.get((after ? query.startAfter(after) : query).limit(pageSize)),
        { readOnly: true, readTime },
      ),
    );
  let next = fetch(undefined);
  for (;;) {
    const page = await next;
    const last = page.docs.at(-1);
    const more = page.size === pageSize && last !== undefined;
    if (more) {
      next = fetch(last);
      // Handled when awaited; without this a failure while the caller is busy is unhandled.
      next.catch(() => undefined);
    }
    if (page.size > 0) yield page.docs;
    if (!more) return;
  }
}
