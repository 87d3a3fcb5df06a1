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
  for await (const chunk of body) {
    if (state === "done") continue;
    buffer = buffer.length === 0 ? (chunk as Buffer) : Buffer.concat([buffer, chunk as Buffer]);
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

function parseHeaders(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}
