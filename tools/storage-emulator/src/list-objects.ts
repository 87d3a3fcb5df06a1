import { invalid } from "./api-error.ts";
import type { ObjectRecord } from "./records.ts";
import { compare } from "./storage-state.ts";

/** The listing options of `objects.list`. */
export interface ListOptions {
  prefix: string;
  delimiter: string;
  maxResults: number;
  pageToken: string | undefined;
  startOffset: string | undefined;
  endOffset: string | undefined;
  includeTrailingDelimiter: boolean;
}

/** One page of `objects.list`: objects, the "directories" (`prefixes`) and where to go on. */
export interface ListPage {
  items: ObjectRecord[];
  prefixes: string[];
  nextPageToken: string | undefined;
}

/** Reads the listing options from an `objects.list` query. */
export function listOptions(query: URLSearchParams): ListOptions {
  const max = Number(query.get("maxResults") ?? 1000);
  if (!Number.isInteger(max) || max < 1) throw invalid("Invalid value for maxResults.");
  return {
    prefix: query.get("prefix") ?? "",
    delimiter: query.get("delimiter") ?? "",
    maxResults: Math.min(max, 1000),
    pageToken: query.get("pageToken") ?? undefined,
    startOffset: query.get("startOffset") ?? undefined,
    endOffset: query.get("endOffset") ?? undefined,
    includeTrailingDelimiter: query.get("includeTrailingDelimiter") === "true",
  };
}

/**
 * Lists `objects` (sorted by name) as the API does: with a delimiter, names that go on past
 * the prefix into another delimiter collapse into one entry of `prefixes`. Objects and
 * prefixes both count toward `maxResults`; the page token is the last entry returned.
 */
export function listPage(objects: ObjectRecord[], options: ListOptions): ListPage {
  const { prefix, delimiter } = options;
  const after = options.pageToken ? decodeToken(options.pageToken) : undefined;
  const items: ObjectRecord[] = [];
  const prefixes: string[] = [];
  let last: Token | undefined;
  for (const object of objects) {
    const name = object.name;
    if (!name.startsWith(prefix)) continue;
    if (options.startOffset !== undefined && compare(name, options.startOffset) < 0) continue;
    if (options.endOffset !== undefined && compare(name, options.endOffset) >= 0) continue;
    if (after && compare(name, after.entry) <= 0) continue;
    // Names under a prefix the previous page ended with were returned as that prefix.
    if (after?.isPrefix && name.startsWith(after.entry)) continue;
    const cut = delimiter ? name.indexOf(delimiter, prefix.length) : -1;
    const entry = cut >= 0 ? name.slice(0, cut + delimiter.length) : name;
    if (last?.isPrefix && entry === last.entry) continue;
    if (last && items.length + prefixes.length >= options.maxResults) {
      return { items, prefixes, nextPageToken: encodeToken(last) };
    }
    last = { entry, isPrefix: cut >= 0 };
    if (cut < 0) items.push(object);
    else {
      prefixes.push(entry);
      if (options.includeTrailingDelimiter && name === entry) items.push(object);
    }
  }
  return { items, prefixes, nextPageToken: undefined };
}

/** Where a page ended: the last object name or prefix it returned. */
interface Token {
  entry: string;
  isPrefix: boolean;
}

function encodeToken(token: Token): string {
  return Buffer.from(JSON.stringify([token.entry, token.isPrefix])).toString("base64url");
}

function decodeToken(text: string): Token {
  try {
    const [entry, isPrefix] = JSON.parse(Buffer.from(text, "base64url").toString("utf8"));
    if (typeof entry === "string" && typeof isPrefix === "boolean") return { entry, isPrefix };
  } catch {
    // An unreadable token is the client's mistake, answered below.
  }
  throw invalid("Invalid page token.");
}
