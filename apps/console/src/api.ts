import type { User } from "firebase/auth";

/** An error the console API answered, with its code and message (the services' JSON errors). */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the console API as the signed-in admin: every call carries a fresh ID token. */
export class Api {
  readonly #user: User;

  constructor(user: User) {
    this.#user = user;
  }

  async get<T>(path: string): Promise<T> {
    return this.#call<T>(path, { method: "GET" });
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.#call<T>(path, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  /**
   * Follows the live stream (`/v1/console/live`), calling `onSnapshot` with each snapshot,
   * reconnecting after a break; the returned function ends it. fetch rather than EventSource,
   * which cannot send the Authorization header.
   */
  live(onSnapshot: (snapshot: unknown) => void, onState: (state: string) => void): () => void {
    const abort = new AbortController();
    const run = async () => {
      while (!abort.signal.aborted) {
        try {
          const answer = await fetch("/v1/console/live", {
            headers: {
              accept: "text/event-stream",
              authorization: `Bearer ${await this.#user.getIdToken()}`,
            },
            signal: abort.signal,
          });
          if (!answer.ok || !answer.body) throw new Error(`live stream answered ${answer.status}`);
          onState("live");
          const reader = answer.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            buffer += value;
            let end = buffer.indexOf("\n\n");
            while (end >= 0) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              const data = event
                .split("\n")
                .filter((line) => line.startsWith("data: "))
                .map((line) => line.slice(6))
                .join("\n");
              if (data) onSnapshot(JSON.parse(data));
              end = buffer.indexOf("\n\n");
            }
          }
        } catch (error) {
          if (abort.signal.aborted) return;
          onState(`reconnecting (${(error as Error).message})`);
        }
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
    };
    void run();
    return () => abort.abort();
  }

  async #call<T>(path: string, init: RequestInit): Promise<T> {
    const answer = await fetch(path, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string> | undefined),
        authorization: `Bearer ${await this.#user.getIdToken()}`,
      },
    });
    const body = (await answer.json().catch(() => ({}))) as {
      error?: { code: string; message: string };
    };
    if (!answer.ok) {
      throw new ApiError(
        answer.status,
        body.error?.code ?? "unknown",
        body.error?.message ?? `${path} answered ${answer.status}`,
      );
    }
    return body as T;
  }
}
