import type {
  BulkWriter,
  CollectionReference,
  DocumentData,
  DocumentReference,
  Firestore,
  QueryDocumentSnapshot,
  WriteBatch,
} from "@google-cloud/firestore";
import { applyTransform } from "./apply-transform.ts";
import { emptyCounts, type MigrationCounts } from "./checkpoint.ts";
import { copySubtree } from "./copy-subtree.ts";
import type { Failure } from "./failure-report.ts";
import type { MigrationTransform } from "./load-transform.ts";
import { mapLimit } from "./map-limit.ts";
import { describeWriteError } from "./migration-writer.ts";

/** What migrating a page needs; `writer` is undefined in a dry run. */
export interface PageContext {
  db: Firestore;
  target: CollectionReference;
  writer: BulkWriter | undefined;
  transform: MigrationTransform | undefined;
  recursive: boolean;
  deleteSource: boolean;
  pageSize: number;
}

/** The page's counts and failures, final once the promise resolves. */
export interface PageResult {
  counts: MigrationCounts;
  failures: Failure[];
}

// Transforms may await I/O of their own; a few at a time overlaps it without a flood.
const transformsAtOnce = 16;
const subtreesAtOnce = 8;

/**
 * Transforms a page of source documents, writes them under the same ids, copies their
 * subcollections and deletes the sources when asked; resolves when all of it is done (or has
 * failed). Never throws: a document's problem becomes its failure.
 */
export async function migratePage(
  context: PageContext,
  docs: readonly QueryDocumentSnapshot[],
): Promise<PageResult> {
  const counts = emptyCounts();
  const failures: Failure[] = [];
  counts.read = docs.length;
  const outcomes = context.transform
    ? await mapLimit(docs, transformsAtOnce, (doc) =>
        applyTransform(context.transform, doc.data(), doc.id),
      )
    : docs.map((doc) => ({ kind: "write" as const, data: doc.data() }));

  // Every write of the page is queued before one flush, so BulkWriter fills whole batches.
  const check = context.db.batch();
  const writes = docs.map((doc, index): Promise<string | undefined> | string | undefined => {
    const outcome = outcomes[index];
    if (outcome?.kind !== "write") return outcome?.kind === "fail" ? outcome.reason : undefined;
    return write(context, check, context.target.doc(doc.id), outcome.data);
  });
  void context.writer?.flush();
  const reasons = await Promise.all(writes);

  const copied: QueryDocumentSnapshot[] = [];
  await mapLimit(docs, context.recursive ? subtreesAtOnce : docs.length, async (doc, index) => {
    const outcome = outcomes[index];
    if (outcome?.kind === "skip") {
      counts.skipped++;
      return;
    }
    let failed = reasons[index] !== undefined;
    if (failed) failures.push({ id: doc.id, reason: reasons[index] as string });
    else if (context.recursive) {
      const subtree = await copySubtree(context, doc.ref, context.target.doc(doc.id), doc.id);
      counts.nested += subtree.nested;
      failures.push(...subtree.failures);
      failed = subtree.failures.length > 0;
    }
    if (failed) counts.failed++;
    else copied.push(doc);
  });

  if (context.deleteSource) {
    // A source goes only once its copy (and its subcollections') is written.
    const deleteFailures = await deleteSources(context, copied);
    for (const [index, doc] of copied.entries()) {
      const reason = deleteFailures[index];
      if (reason === undefined) {
        counts.deleted++;
        counts.written++;
      } else {
        counts.failed++;
        failures.push({ id: doc.id, reason: `copied, but the source was not deleted: ${reason}` });
      }
    }
  } else {
    counts.written += copied.length;
  }
  return { counts, failures };
}

/**
 * Queues one write. A transform's output is checked first on a batch that is never committed:
 * BulkWriter checks data only when it takes the write from its queue, too late to tell whose.
 */
function write(
  context: PageContext,
  check: WriteBatch,
  ref: DocumentReference,
  data: DocumentData,
): Promise<string | undefined> | string | undefined {
  if (context.transform) {
    try {
      check.set(ref, data);
    } catch (error) {
      return `invalid data: ${(error as Error).message}`;
    }
  }
  return context.writer?.set(ref, data).then(
    () => undefined,
    (error: unknown) => describeWriteError(error),
  );
}

async function deleteSources(
  context: PageContext,
  docs: readonly QueryDocumentSnapshot[],
): Promise<(string | undefined)[]> {
  const { db, writer } = context;
  if (!writer) return docs.map(() => undefined);
  const remove = async (doc: QueryDocumentSnapshot) => {
    try {
      await (context.recursive ? db.recursiveDelete(doc.ref, writer) : writer.delete(doc.ref));
      return undefined;
    } catch (error) {
      return describeWriteError(error);
    }
  };
  const pending = mapLimit(docs, context.recursive ? subtreesAtOnce : docs.length, remove);
  void writer.flush();
  return pending;
}
