import { Agent, request } from "node:http";

/** A keep-alive agent for the benchmarks' lean HTTP clients. */
export function keepAliveAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 64 });
}

/**
 * A lean keep-alive HTTP request to a service on 127.0.0.1, so the load generator takes little
 * of the machine's CPU: JSON body out, status and (when `read`) the parsed JSON body back.
 */
export function requestJson(
  agent: Agent,
  port: number,
  init: {
    method: "GET" | "POST";
    path: string;
    token: string;
    body?: unknown;
    read?: boolean;
    headers?: Record<string, string>;
  },
): Promise<{ status: number; body: unknown }> {
  const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        path: init.path,
        method: init.method,
        headers: {
          ...init.headers,
          authorization: `Bearer ${init.token}`,
          ...(payload === undefined
            ? {}
            : {
                "content-type": "application/json",
                "content-length": Buffer.byteLength(payload),
              }),
        },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (!init.read) {
          response.resume();
          response.on("end", () => resolve({ status, body: undefined }));
          return;
        }
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status, body: text === "" ? undefined : JSON.parse(text) });
          } catch (error) {
            reject(
              new Error(`${init.method} ${init.path}: ${status} with a body that is not JSON`, {
                cause: error,
              }),
            );
          }
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
