import { percentile } from "./measure.ts";

/** One page of `GET /v1/changes`, as far as the feed benchmark reads it. */
export interface ChangesPage {
  changes: { document: string; created_by: string | null }[];
  next_cursor: string | null;
  has_more: boolean;
}

/** Checks that `body` is a page of the change feed; throws naming what is off otherwise. */
export function changesPageOf(body: unknown): ChangesPage {
  const page = body as Partial<ChangesPage> | undefined;
  if (
    !page ||
    !Array.isArray(page.changes) ||
    typeof page.has_more !== "boolean" ||
    !(page.next_cursor === null || typeof page.next_cursor === "string") ||
    page.changes.some((change) => typeof change?.document !== "string")
  ) {
    throw new Error(`not a page of changes: ${JSON.stringify(body)?.slice(0, 200)}`);
  }
  return page as ChangesPage;
}

/** `items` in consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`chunk size must be >= 1, not ${size}`);
  const slices: T[][] = [];
  for (let start = 0; start < items.length; start += size) {
    slices.push(items.slice(start, start + size));
  }
  return slices;
}

/** The median and 99th percentile of some latencies, and how many there were. */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
}

/** Summarizes latencies given in any order (the array is left as it was). */
export function summarize(latencies: readonly number[]): LatencySummary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
  };
}
