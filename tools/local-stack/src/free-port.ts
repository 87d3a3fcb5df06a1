import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/**
 * The first port of the kernel's ephemeral range: every outgoing connection of every process
 * takes its local port from that range, so a port picked there can be gone a moment later.
 */
function ephemeralStart(): number {
  try {
    const [low] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/);
    const port = Number(low);
    if (Number.isInteger(port) && port > 20_000) return port;
  } catch {
    // not Linux: the IANA range's start
  }
  return 49_152;
}

const lowest = 15_000;
const handedOut = new Set<number>();

/** Listens on 127.0.0.1:port for a moment; resolves with the port bound, or undefined. */
function probe(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === "object" && address !== null ? address.port : undefined),
      );
    });
  });
}

/**
 * A TCP port that is free on 127.0.0.1 right now, picked at random below the ephemeral range
 * (where no outgoing connection or port-0 listener takes it in the meantime) and never the
 * same twice in one process; the OS's choice if none of those is free.
 */
export async function freePort(): Promise<number> {
  const span = ephemeralStart() - lowest;
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = lowest + Math.floor(Math.random() * span);
    if (handedOut.has(port)) continue;
    if ((await probe(port)) === port) {
      handedOut.add(port);
      return port;
    }
  }
  const port = await probe(0);
  if (port === undefined) throw new Error("could not find a free port on 127.0.0.1");
  return port;
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
