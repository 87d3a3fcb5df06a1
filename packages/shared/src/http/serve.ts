import type { Server } from "node:http";
import type { Express } from "express";
import type { Logger } from "../logger.ts";
import { stateOf } from "./app.ts";

export interface ServeOptions {
  port: number;
  /** Default 127.0.0.1: a container passes 0.0.0.0. */
  host?: string;
  logger: Logger;
  /** How long SIGTERM waits for in-flight requests before closing their connections. */
  graceMs: number;
  /** Runs when draining starts, before waiting for requests: end long-lived responses (streams). */
  onDrain?: () => Promise<void> | void;
  /** Runs after the server stopped taking requests: flush publishers, stop workers, close clients. */
  onShutdown?: () => Promise<void>;
  /** Install SIGTERM/SIGINT handlers that shut down and exit (main.ts); off in tests. */
  handleSignals?: boolean;
}

/** A listening service and how to shut it down gracefully. */
export interface Serving {
  server: Server;
  port: number;
  shutdown(): Promise<void>;
}

/**
 * Listens, and on SIGTERM (Cloud Run's stop) drains: reports not ready, stops accepting,
 * lets in-flight requests finish within the grace period, runs the shutdown hook, exits.
 */
export async function serve(app: Express, options: ServeOptions): Promise<Serving> {
  const { logger } = options;
  const server = app.listen(options.port, options.host ?? "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  logger.info("listening", { port });

  let shutting: Promise<void> | undefined;
  const shutdown = () => {
    shutting ??= (async () => {
      stateOf(app).draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = options.onDrain?.();
      const timer = setTimeout(() => {
        logger.warn("grace period over, closing open connections");
        server.closeAllConnections();
      }, options.graceMs);
      await Promise.all([closed, drained]);
      clearTimeout(timer);
      await options.onShutdown?.();
      logger.info("stopped");
    })();
    return shutting;
  };

  if (options.handleSignals) {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      process.once(signal, () => {
        logger.info("shutting down", { signal });
        shutdown().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error("shutdown failed", { error });
            process.exit(1);
          },
        );
      });
    }
  }
  return { server, port, shutdown };
}
