import { once } from "node:events";
import { createServer } from "node:http";
import { join, resolve } from "node:path";
import { ApiError, invalid } from "./api-error.ts";
import { type BlobStore, MemoryBlobStore } from "./blob-store.ts";
import type { Context } from "./context.ts";
import { DiskBlobStore } from "./disk-blob-store.ts";
import { DiskPersistence } from "./disk-persistence.ts";
import { sendError } from "./http.ts";
import { jsonLog, type LineWriter } from "./log.ts";
import { createNotifier } from "./notifier.ts";
import { memoryPersistence } from "./persistence.ts";
import { ResumableUploads } from "./resumable-upload.ts";
import { route } from "./router.ts";
import { StorageState } from "./storage-state.ts";

/** How to run the emulator. */
export interface StorageEmulatorOptions {
  /** 0 picks a free port. */
  port: number;
  /** Interface to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Keeps buckets, objects and upload sessions here across restarts; memory only without. */
  dataDir?: string;
  /** `host:port` of the Pub/Sub emulator that bucket notifications publish to. */
  pubsubEmulatorHost?: string;
  /** Receives one JSON line per request and per problem; without it only problems are written, to stderr. */
  log?: LineWriter;
}

/** A running emulator. */
export interface StorageEmulator {
  /** Base URL for `apiEndpoint` or `STORAGE_EMULATOR_HOST`, e.g. `http://127.0.0.1:4443`. */
  url: string;
  port: number;
  /** Stops listening, waits for queued notifications and closes the Pub/Sub clients. */
  stop(): Promise<void>;
}

/** Starts the Cloud Storage emulator (the JSON API subset `@google-cloud/storage` uses). */
export async function startStorageEmulator(
  options: StorageEmulatorOptions,
): Promise<StorageEmulator> {
  const host = options.host ?? "127.0.0.1";
  const log = jsonLog(options.log ?? problemsToStderr);
  const dataDir = options.dataDir === undefined ? undefined : resolve(options.dataDir);
  const blobs: BlobStore = dataDir
    ? new DiskBlobStore(join(dataDir, "blobs"))
    : new MemoryBlobStore();
  const state = await StorageState.load(dataDir ? new DiskPersistence(dataDir) : memoryPersistence);
  await collectGarbage(state, blobs);
  const notifier = createNotifier(options.pubsubEmulatorHost, log);
  const ctx: Context = { state, blobs, notifier, log };
  const uploads = new ResumableUploads(ctx);
  let url = "";
  const inFlight = new Set<Promise<void>>();

  const server = createServer((req, res) => {
    const started = Date.now();
    res.on("close", () => {
      const range = req.headers["content-range"];
      const status = res.writableFinished ? res.statusCode : "aborted";
      log.info(`${req.method} ${req.url} ${status}`, {
        method: req.method,
        path: req.url,
        status,
        ...(range ? { contentRange: range } : {}),
        ms: Date.now() - started,
      });
    });
    const handling = (async () => {
      try {
        await route(ctx, uploads, req, res, url)();
      } catch (error) {
        if (error instanceof URIError) {
          sendError(res, invalid("Malformed percent-encoding in the path."));
          return;
        }
        if (!(error instanceof ApiError)) {
          log.error("request failed", { method: req.method, path: req.url, error: String(error) });
        }
        sendError(res, error);
      }
    })();
    inFlight.add(handling);
    void handling.finally(() => inFlight.delete(handling));
  });
  // Cloud Storage does not cut off a request that is still streaming an upload; Node's server
  // would after 300 s (its default requestTimeout), failing a long simple upload.
  server.requestTimeout = 0;
  server.listen(options.port, host);
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  log.info(`storage emulator listening on ${url}`, {
    dataDir: dataDir ?? "memory",
    pubsub: options.pubsubEmulatorHost ?? "none",
  });

  return {
    url,
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      // Cut-off requests still finish their bookkeeping (an upload keeps what arrived).
      await Promise.allSettled([...inFlight]);
      await notifier.close();
    },
  };
}

function problemsToStderr(line: string): void {
  if (!line.includes('"severity":"INFO"')) process.stderr.write(`${line}\n`);
}

/** Deletes blobs no object or session refers to: what a crash mid-upload left behind. */
async function collectGarbage(state: StorageState, blobs: BlobStore): Promise<void> {
  const inUse = state.blobsInUse();
  for (const id of await blobs.ids()) if (!inUse.has(id)) await blobs.remove(id);
}
