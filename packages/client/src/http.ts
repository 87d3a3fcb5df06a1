import { retryAfterMs } from "./backoff.ts";

/** The server's error body. */
export interface ApiError {
  code: string;
  message: string;
  details?: unknown;
}

/** An HTTP answer, its body parsed when it is JSON. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
  retryAfterMs: number | undefined;
}

/** True for statuses worth retrying later: 408, 429, 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** The `{error: {code, message}}` of a body, or one made from the status. */
export function errorOf(response: ApiResponse): ApiError {
  const error = (response.body as { error?: ApiError } | undefined)?.error;
  if (error && typeof error.code === "string") return error;
  return { code: `http_${response.status}`, message: `the server answered ${response.status}` };
}

/** Calls the API with a fresh ID token; refreshes the token once on 401. */
export class Http {
  readonly #baseUrl: string;
  readonly #fetch: typeof fetch;
  readonly #getIdToken: (forceRefresh?: boolean) => Promise<string>;

  constructor(
    baseUrl: string,
    fetchImpl: typeof fetch,
    getIdToken: (forceRefresh?: boolean) => Promise<string>,
  ) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#fetch = fetchImpl;
    this.#getIdToken = getIdToken;
  }

  /** Starts a request and returns the raw response (the caller reads the body). */
  async raw(path: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
    let refreshed = false;
    for (;;) {
      const token = await this.#getIdToken(refreshed);
      const response = await this.#fetch(`${this.#baseUrl}${path}`, {
        ...init,
        headers: { ...init.headers, authorization: `Bearer ${token}` },
      });
      if (response.status !== 401 || refreshed) return response;
      await response.body?.cancel();
      refreshed = true;
    }
  }

  /** A request whose answer is read whole (JSON parsed when it is JSON). */
  async request(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<ApiResponse> {
    const headers: Record<string, string> = { accept: "application/json", ...options.headers };
    if (options.body !== undefined) headers["content-type"] ??= "application/json";
    const response = await this.raw(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
    const text = await response.text();
    let body: unknown = text;
    if ((response.headers.get("content-type") ?? "").includes("json") && text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        // left as text
      }
    }
    return {
      status: response.status,
      headers: response.headers,
      body,
      retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
    };
  }
}
