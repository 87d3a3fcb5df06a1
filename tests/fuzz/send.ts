import { Agent, request } from "node:http";
import type { HttpCase } from "./http-case.ts";

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

/** What came back for a request. */
export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/**
 * Sends a case with node:http rather than fetch, so the path goes out exactly as generated
 * (fetch would normalise `%2e%2e`) and a GET may carry a body.
 */
export function send(
  baseUrl: string,
  generated: HttpCase,
  headers: Record<string, string>,
): Promise<Answer> {
  const url = new URL(baseUrl);
  const body = generated.body === undefined ? undefined : Buffer.from(generated.body);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method: generated.method,
        path: generated.path,
        headers: {
          ...headers,
          ...generated.headers,
          ...(body ? { "content-length": String(body.length) } : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        response.on("error", reject);
      },
    );
    outgoing.on("error", reject);
    outgoing.end(body);
  });
}

/** Closes the keep-alive connections. */
export function closeConnections(): void {
  agent.destroy();
}
