import type {
  BulkWriter,
  CollectionReference,
  Firestore,
  QueryDocumentSnapshot,
} from "@google-cloud/firestore";
import type { ToolItem, ToolWriter } from "@syncstack/shared";
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
  /** Writes under the sync contract through `writer` (plans only in a dry run). */
  tool: ToolWriter;
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

  // A transform's output is checked first on a batch that is never committed: BulkWriter
  // checks data only when it takes the write from its queue, too late to tell whose.
  const check = context.db.batch();
  const reasons: (string | undefined)[] = [];
  const items: ToolItem[] = [];
  const itemOf: number[] = [];
  for (const [index, doc] of docs.entries()) {
    const outcome = outcomes[index];
    if (outcome?.kind !== "write") {
      reasons[index] = outcome?.kind === "fail" ? outcome.reason : undefined;
      continue;
    }
    const ref = context.target.doc(doc.id);
    try {
      if (context.transform) check.set(ref, outcome.data);
    } catch (error) {
      reasons[index] = `invalid data: ${(error as Error).message}`;
      continue;
    }
    items.push({ ref, fields: outcome.data });
    itemOf.push(index);
  }
  // The page's targets are read in one getAll, and every write queued before one flush.
  const results = await context.tool
    .writePage(items)
    .catch((error: unknown) => items.map(() => ({ outcome: "changed" as const, error })));
  for (const [position, result] of results.entries()) {
    const index = itemOf[position] as number;
    reasons[index] = result.error === undefined ? undefined : describeWriteError(result.error);
    if (
      result.error === undefined &&
      (result.outcome === "unchanged" || result.outcome === "kept-deleted")
    )
      counts.unchanged++;
  }

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
