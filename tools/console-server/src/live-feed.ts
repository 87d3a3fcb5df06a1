import { type Logger, untraced } from "@syncstack/shared";
import type { Response } from "express";

const heartbeatMs = 15_000;

/**
 * The console's one live stream (server-sent events). Every page open shares one ticker,
 * which runs only while someone listens: it builds a snapshot each interval and sends it
 * only when it changed, so ten open pages cost what one does and an idle system sends
 * nothing but a heartbeat.
 */
export class LiveFeed {
  readonly #snapshot: () => Promise<Record<string, unknown>>;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  readonly #clients = new Set<Response>();
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #last: string | undefined;
  #sequence = 0;
  #ticking: Promise<void> | undefined;

  constructor(
    snapshot: () => Promise<Record<string, unknown>>,
    intervalMs: number,
    logger: Logger,
  ) {
    this.#snapshot = snapshot;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
  }

  /** Streams to a response until its client goes away. */
  add(response: Response): void {
    response.status(200).set({
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    response.flushHeaders();
    response.write("retry: 2000\n\n");
    if (this.#last !== undefined) response.write(this.#event(this.#last));
    this.#clients.add(response);
    response.on("close", () => {
      this.#clients.delete(response);
      if (this.#clients.size === 0) this.#stop();
    });
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.tick(), this.#intervalMs);
      this.#heartbeat = setInterval(() => {
        for (const client of this.#clients) client.write(": heartbeat\n\n");
      }, heartbeatMs);
      void this.tick();
    }
  }

  /** Builds a snapshot now (after a change the console made) and sends it if it changed. */
  tick(): Promise<void> {
    this.#ticking ??= this.#build().finally(() => {
      this.#ticking = undefined;
    });
    return this.#ticking;
  }

  /** Ends every stream (the server is draining). */
  close(): void {
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    this.#stop();
  }

  async #build(): Promise<void> {
    if (this.#clients.size === 0) return;
    try {
      // The ticker's reads are no one's request: each would be a trace of its own.
      const json = JSON.stringify(await untraced(() => this.#snapshot()));
      if (json === this.#last) return;
      this.#last = json;
      const event = this.#event(json);
      for (const client of this.#clients) client.write(event);
    } catch (error) {
      this.#logger.warn("live snapshot failed", { error });
    }
  }

  #event(json: string): string {
    this.#sequence++;
    return `id: ${this.#sequence}\nevent: snapshot\ndata: ${json}\n\n`;
  }

  #stop(): void {
    clearInterval(this.#timer);
    clearInterval(this.#heartbeat);
    this.#timer = undefined;
    this.#heartbeat = undefined;
    this.#last = undefined;
  }
}
