import { invalid } from "./api-error.ts";

/** A resumable upload request's `Content-Range`, with `*` (unknown) as undefined. */
export interface UploadRange {
  /** A status query (no start and end): the client asks how much the emulator has. */
  query: boolean;
  start: number;
  end: number | undefined;
  total: number | undefined;
}

/**
 * Parses `bytes a-b/total`, `bytes a-*` + `/total` or `/*`, and the status query `bytes *` + `/*`.
 * Without the header the request carries the whole object.
 */
export function parseUploadRange(header: string | undefined): UploadRange {
  if (header === undefined) return { query: false, start: 0, end: undefined, total: undefined };
  const match = /^bytes (?:\*|(\d+)-(\d+|\*))\/(\d+|\*)$/.exec(header.trim());
  if (!match) throw invalid(`Invalid Content-Range: ${header}`);
  const [, start, end, total] = match;
  const number = (text: string | undefined) =>
    text === undefined || text === "*" ? undefined : Number(text);
  return {
    query: start === undefined,
    start: number(start) ?? 0,
    end: number(end),
    total: number(total),
  };
}
