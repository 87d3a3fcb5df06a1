import {
  type DocumentReference,
  FieldPath,
  type QueryDocumentSnapshot,
} from "@google-cloud/firestore";
import type { ToolWriter } from "@syncstack/shared";
import type { Failure } from "./failure-report.ts";
import { mapLimit } from "./map-limit.ts";
import { describeWriteError } from "./migration-writer.ts";

/** What copying subcollections needs: the tool's writer (it plans only in a dry run) and the page size. */
export interface SubtreeContext {
  tool: ToolWriter;
  pageSize: number;
}

/** Documents copied below one document, and the ones that failed. */
export interface SubtreeResult {
  nested: number;
  failures: Failure[];
}

// Each document costs a listCollections() call; a few at a time hides its latency.
const documentsAtOnce = 8;

/**
 * Copies every subcollection of `source`, at any depth and unchanged, to the same relative
 * paths under `target`, a page at a time (the next page is read once this one is written).
 * Failures name the top-level document `id` and the path below the source collection
 * (`prefix`, which starts as that id). Never throws: errors become failures.
 */
export async function copySubtree(
  context: SubtreeContext,
  source: DocumentReference,
  target: DocumentReference,
  id: string,
  prefix = id,
): Promise<SubtreeResult> {
  const result: SubtreeResult = { nested: 0, failures: [] };
  try {
    for (const collection of await source.listCollections()) {
      let after: string | undefined;
      for (;;) {
        let query = collection.orderBy(FieldPath.documentId()).limit(context.pageSize);
        if (after !== undefined) query = query.startAfter(after);
        const page = await query.get();
        const targets = page.docs.map((doc) => target.collection(collection.id).doc(doc.id));
        // Copied unchanged, except that a `version` never goes backwards (tool-writer.ts).
        const outcomes = (
          await context.tool.writePage(
            page.docs.map((doc, index) => ({
              ref: targets[index] as DocumentReference,
              fields: doc.data(),
            })),
          )
        ).map((written) =>
          written.error === undefined ? undefined : describeWriteError(written.error),
        );
        const pathOf = (doc: QueryDocumentSnapshot) => `${prefix}/${collection.id}/${doc.id}`;
        for (const [index, doc] of page.docs.entries()) {
          const reason = outcomes[index];
          if (reason === undefined) result.nested++;
          else result.failures.push({ id, path: pathOf(doc), reason });
        }
        const below = await mapLimit(page.docs, documentsAtOnce, (doc, index) =>
          copySubtree(context, doc.ref, targets[index] as DocumentReference, id, pathOf(doc)),
        );
        for (const sub of below) {
          result.nested += sub.nested;
          result.failures.push(...sub.failures);
        }
        const last = page.docs.at(-1);
        if (!last || page.size < context.pageSize) break;
        after = last.id;
      }
    }
  } catch (error) {
    const reason = `reading subcollections: ${describeWriteError(error)}`;
    result.failures.push({ id, path: prefix, reason });
  }
  return result;
}
