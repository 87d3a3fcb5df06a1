import { createServer } from "node:net";

/** Asks the OS for a TCP port that is free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (typeof address === "object" && address !== null) resolve(address.port);
        else reject(new Error("could not read the port of a probe server"));
      });
    });
  });
}

/**
 * Fails with a message naming the port, what needs it and what to do (`hint`) when 127.0.0.1:port
 * cannot be listened on.
 */
export function assertPortFree(port: number, what: string, hint: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      const problem =
        error.code === "EADDRINUSE" ? "is already in use" : `cannot be used (${error.code})`;
      reject(new Error(`port ${port} (${what}) ${problem}: ${hint}`, { cause: error }));
    });
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}
