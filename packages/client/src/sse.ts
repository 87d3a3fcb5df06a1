/** One server-sent event as the parser dispatches it. */
export interface SseEvent {
  /** The `event:` field, `message` when absent. */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (it carries over, as EventSource's lastEventId). */
  id: string | undefined;
  /** The `retry:` the stream asked for, when this event block set it. */
  retry?: number;
}

/**
 * An incremental parser of `text/event-stream` (the HTML standard's algorithm): feed it text
 * chunks cut anywhere, it returns the events completed so far. Comments (`: ping`) are
 * ignored; a `retry:` without data is reported as an event of type `retry`.
 */
export class SseParser {
  #buffer = "";
  #lastId: string | undefined;
  #event = "";
  #data: string[] = [];
  #retry: number | undefined;
  #pendingCr = false;

  constructor(lastEventId?: string) {
    this.#lastId = lastEventId;
  }

  get lastEventId(): string | undefined {
    return this.#lastId;
  }

  push(chunk: string): SseEvent[] {
    let text = chunk;
    // A \r\n cut between two chunks is one line end, not two.
    if (this.#pendingCr && text.startsWith("\n")) text = text.slice(1);
    this.#pendingCr = text.endsWith("\r");
    this.#buffer += text;
    const events: SseEvent[] = [];
    const lines = this.#buffer.split(/\r\n|\r|\n/);
    this.#buffer = lines.pop() ?? "";
    for (const line of lines) {
      const event = this.#line(line);
      if (event) events.push(event);
    }
    return events;
  }

  #line(line: string): SseEvent | undefined {
    if (line === "") return this.#dispatch();
    if (line.startsWith(":")) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (field) {
      case "event":
        this.#event = value;
        break;
      case "data":
        this.#data.push(value);
        break;
      case "id":
        if (!value.includes("\0")) this.#lastId = value;
        break;
      case "retry":
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
    }
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const retry = this.#retry;
    const event = this.#event || "message";
    const hasData = this.#data.length > 0;
    const data = this.#data.join("\n");
    this.#event = "";
    this.#data = [];
    this.#retry = undefined;
    if (!hasData) {
      return retry === undefined
        ? undefined
        : { event: "retry", data: "", id: this.#lastId, retry };
    }
    return { event, data, id: this.#lastId, ...(retry === undefined ? {} : { retry }) };
  }
}
