import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, invalid } from "./api-error.ts";

/** Answers with a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=UTF-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answers with an error in the JSON API's format; anything but an ApiError is a 500. */
export function sendError(res: ServerResponse, error: unknown): void {
  const apiError =
    error instanceof ApiError
      ? error
      : new ApiError(500, "backendError", "Internal error in the storage emulator.", {
          cause: error,
        });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (apiError.status === 304) {
    res.writeHead(304).end();
    return;
  }
  sendJson(res, apiError.status, apiError);
}

/** Reads a small JSON request body (metadata, never media); an empty body is `undefined`. */
export async function readJson(req: IncomingMessage, limit = 1024 * 1024): Promise<unknown> {
  const text = await readText(req, limit);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ApiError(400, "parseError", "Parse Error", { cause: error });
  }
}

async function readText(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError(413, "uploadTooLarge", "Request body too large.");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The base URL the client reached the emulator at, for links and session URIs it will follow. */
export function requestBase(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  return host ? `http://${host}` : fallback;
}

/** A required query parameter or body field, or a 400 naming it. */
export function required<T>(value: T | undefined | null, name: string): T {
  if (value === undefined || value === null || value === "") {
    throw invalid(`Required parameter: ${name}`, "required");
  }
  return value;
}
