import { invalid } from "./api-error.ts";

/** A `multipart/related` part as the parser hands it over. */
export interface PartSink {
  /** Called once per part with its headers (lower-case names). */
  start(index: number, headers: Record<string, string>): void;
  data(index: number, chunk: Buffer): Promise<void>;
}

/** The `boundary` parameter of a `multipart/related` content type. */
export function boundaryOf(contentType: string | undefined): string {
  const match = /^multipart\/related\s*;.*?boundary="?([^";]+)"?/i.exec(contentType ?? "");
  if (!match) throw invalid("Content-Type must be multipart/related with a boundary.");
  return match[1] as string;
}

/**
 * Parses a `multipart/related` body as it streams: part bodies go to `sink` in pieces, so a
 * large media part never sits in memory. Only a tail as long as the delimiter is held back.
 */
export async function parseMultipartRelated(
  body: AsyncIterable<unknown>,
  boundary: string,
  sink: PartSink,
): Promise<number> {
  const first = Buffer.from(`--${boundary}`);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let buffer: Buffer = Buffer.alloc(0);
  let state: "preamble" | "after-delimiter" | "headers" | "body" | "done" = "preamble";
  let part = -1;
  for await (const value of body) {
    if (state === "done") continue;
    const chunk = value as Buffer;
    if (buffer.length === 0) buffer = chunk;
    else if (state === "body" && !delimiterStartsIn(buffer, chunk, delimiter)) {
      // The held-back tail is part of the body after all: hand it over and keep the chunk as it
      // came, rather than copying every chunk of a large part into a joined buffer.
      await sink.data(part, buffer);
      buffer = chunk;
    } else buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      if (state === "preamble") {
        const at = buffer.indexOf(first);
        if (at < 0) break;
        buffer = buffer.subarray(at + first.length);
        state = "after-delimiter";
      } else if (state === "after-delimiter") {
        if (buffer.length < 2) break;
        const next = buffer.subarray(0, 2).toString("latin1");
        if (next === "--") {
          state = "done";
          break;
        }
        // Transport padding (spaces) may follow a delimiter before its line break.
        const lineEnd = buffer.indexOf("\r\n");
        if (lineEnd < 0) break;
        buffer = buffer.subarray(lineEnd + 2);
        state = "headers";
      } else if (state === "headers") {
        const end = buffer.indexOf("\r\n\r\n");
        const blank = buffer.subarray(0, 2).toString("latin1") === "\r\n";
        if (end < 0 && !blank) {
          if (buffer.length > 64 * 1024) throw invalid("Multipart part headers are too long.");
          break;
        }
        const headerEnd = blank ? 0 : end;
        part += 1;
        sink.start(part, parseHeaders(buffer.subarray(0, headerEnd).toString("utf8")));
        buffer = buffer.subarray(headerEnd + (blank ? 2 : 4));
        state = "body";
      } else if (state === "body") {
        const at = buffer.indexOf(delimiter);
        if (at < 0) {
          const keep = Math.min(buffer.length, delimiter.length - 1);
          const ready = buffer.length - keep;
          if (ready > 0) await sink.data(part, buffer.subarray(0, ready));
          buffer = buffer.subarray(ready);
          break;
        }
        if (at > 0) await sink.data(part, buffer.subarray(0, at));
        buffer = buffer.subarray(at + delimiter.length);
        state = "after-delimiter";
      } else break;
    }
  }
  if (state !== "done") throw invalid("Multipart body ended before its closing delimiter.");
  return part + 1;
}

/**
 * Whether a delimiter may begin in `tail` (less than a delimiter long) and run on into `next`:
 * only the delimiter's length of `next` is joined to look. When `next` is shorter than that,
 * it cannot tell yet and says so.
 */
function delimiterStartsIn(tail: Buffer, next: Buffer, delimiter: Buffer): boolean {
  if (next.length < delimiter.length) return true;
  const at = Buffer.concat([tail, next.subarray(0, delimiter.length - 1)]).indexOf(delimiter);
  return at >= 0 && at < tail.length;
}

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
