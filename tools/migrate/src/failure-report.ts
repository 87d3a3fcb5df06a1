import { appendFile, mkdir, rm, stat, truncate } from "node:fs/promises";
import { dirname } from "node:path";

/** One line of the failure report: the source document id, and its path when nested. */
export interface Failure {
  id: string;
  reason: string;
  /** Path below the source collection, for a document of a subcollection. */
  path?: string;
}

/** The NDJSON failure report, appended page by page; `bytes` goes into each checkpoint. */
export interface FailureReport {
  readonly path: string;
  readonly bytes: number;
  append(failures: readonly Failure[]): Promise<void>;
}

/**
 * Opens the report keeping its first `keepBytes` (what the checkpoint being resumed had
 * recorded, so lines of a page redone after a kill are not doubled); 0 starts it afresh.
 */
export async function openFailureReport(path: string, keepBytes: number): Promise<FailureReport> {
  const size = await stat(path).then(
    (info) => info.size,
    () => 0,
  );
  if (keepBytes === 0) await rm(path, { force: true });
  else if (size > keepBytes) await truncate(path, keepBytes);
  let bytes = Math.min(size, keepBytes);
  return {
    path,
    get bytes() {
      return bytes;
    },
    async append(failures) {
      if (failures.length === 0) return;
      const text = failures.map((failure) => `${JSON.stringify(failure)}\n`).join("");
      await mkdir(dirname(path), { recursive: true });
      await appendFile(path, text);
      bytes += Buffer.byteLength(text);
    },
  };
}
