import type {
  BulkWriter,
  CollectionReference,
  Firestore,
  QueryDocumentSnapshot,
} from "@google-cloud/firestore";
import {
  isSyncDocument,
  servedBySync,
  type ToolItem,
  type ToolWriter,
  tombstoneOf,
} from "@syncstack/shared";
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
  /** How long a deleted source's tombstone is kept. */
  tombstoneRetentionMs: number;
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
    // In place, the source just read is the target's current document: no second read.
    items.push({
      ref,
      fields: outcome.data,
      ...(ref.path === doc.ref.path ? { current: doc } : {}),
    });
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

/**
 * Deletes copied sources. In a collection the sync API serves a sync document becomes a
 * tombstone through the tool's writer (next version, readers, a `delete` event: apps that
 * synced it are told, and a document re-created there continues its versions), and only if
 * it is still the version copied; anything else is deleted outright. With `--recursive`
 * the subcollections go too.
 */
async function deleteSources(
  context: PageContext,
  docs: readonly QueryDocumentSnapshot[],
): Promise<(string | undefined)[]> {
  const { db, writer } = context;
  if (!writer) return docs.map(() => undefined);
  const reasons = new Map<QueryDocumentSnapshot, string | undefined>();
  const synced = docs.filter((doc) => servedBySync(doc.ref) && isSyncDocument(doc.data()));
  const results = await context.tool
    .writePage(
      synced.map((doc) => ({
        ref: doc.ref,
        fields: tombstoneOf(doc.data(), Date.now(), context.tombstoneRetentionMs),
        current: doc,
        unchangedSince: doc.updateTime,
      })),
    )
    .catch((error: unknown) => synced.map(() => ({ outcome: "changed" as const, error })));
  for (const [index, doc] of synced.entries()) {
    const error = results[index]?.error;
    reasons.set(doc, error === undefined ? undefined : describeWriteError(error));
  }
  const remove = async (doc: QueryDocumentSnapshot) => {
    try {
      if (!reasons.has(doc)) {
        await (context.recursive ? db.recursiveDelete(doc.ref, writer) : writer.delete(doc.ref));
      } else if (reasons.get(doc) === undefined && context.recursive) {
        for (const below of await doc.ref.listCollections()) {
          await db.recursiveDelete(below, writer);
        }
      }
      return reasons.get(doc);
    } catch (error) {
      return describeWriteError(error);
    }
  };
  const pending = mapLimit(docs, context.recursive ? subtreesAtOnce : docs.length, remove);
  void writer.flush();
  return pending;
}
