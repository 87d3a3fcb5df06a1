import { waitFor } from "@syncstack/shared/testing";

/** One server-sent event as a client sees it (comments included, as `comment`). */
export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
}

/** A change-stream connection under test: what arrived so far, and ways to wait for more. */
export interface SseStream {
  status: number;
  headers: Headers;
  /** Every event and comment received, in order. */
  events: SseEvent[];
  /** The `change` events' items received. */
  changes(): { id: string; item: { document: string; version: number; [key: string]: unknown } }[];
  /** Waits until `count` change events arrived; returns them. */
  waitForChanges(count: number, timeoutMs?: number): Promise<ReturnType<SseStream["changes"]>>;
  /** Waits for an event matching `match`. */
  waitForEvent(match: (event: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** Resolves when the server ended the response. */
  ended: Promise<void>;
  /** The JSON body of a response that is not a stream. */
  json(): Promise<unknown>;
  close(): void;
}

/** Parses an SSE byte stream's text into events, as the EventSource spec does (minus dispatch rules we do not use). */
export function parseSse(text: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  const blocks = text.split("\n\n");
  const rest = blocks.pop() ?? "";
  for (const block of blocks) {
    const event: SseEvent = {};
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        event.comment = line.slice(1).trim();
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "id") event.id = value;
      else if (field === "event") event.event = value;
      else if (field === "data")
        event.data = event.data === undefined ? value : `${event.data}\n${value}`;
      else if (field === "retry") event.retry = Number(value);
    }
    events.push(event);
  }
  return { events, rest };
}

/** Opens `GET url` with `Accept: text/event-stream` and reads it in the background. */
export async function openSse(url: string, headers: Record<string, string>): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const streaming = response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
  const ended = (async () => {
    if (!streaming || !response.body) return;
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        const parsed = parseSse(buffer);
        events.push(...parsed.events);
        buffer = parsed.rest;
      }
    } catch {
      // aborted by close()
    }
  })();
  const changes = () =>
    events
      .filter((event) => event.event === "change")
      .map((event) => ({
        id: event.id ?? "",
        item: JSON.parse(event.data ?? "null") as { document: string; version: number },
      }));
  return {
    status: response.status,
    headers: response.headers,
    events,
    changes,
    waitForChanges: (count, timeoutMs = 30_000) =>
      waitFor(
        `${count} change events`,
        () => {
          const found = changes();
          return found.length >= count ? found : undefined;
        },
        timeoutMs,
      ),
    waitForEvent: (match, timeoutMs = 30_000) =>
      waitFor("an event", () => events.find(match), timeoutMs),
    ended,
    json: () => response.json(),
    close: () => controller.abort(),
  };
}
