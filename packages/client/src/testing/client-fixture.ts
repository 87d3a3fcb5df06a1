import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSync } from "@syncstack/sync/testing";
import { type ClientOptions, createClient, type SyncClient } from "../index.ts";

/** The address clients are given; the routed fetch sends it to the sync instance of the moment. */
export const baseUrl = "http://sync.test";

/** A hook around each request: forward it (to the current instance) or answer otherwise. */
export type Intercept = (
  request: { url: string; method: string; init: RequestInit },
  forward: () => Promise<Response>,
) => Promise<Response>;

type SyncUnderTest = Awaited<ReturnType<typeof startSync>>;

/** A stored document as `GET /v1/documents` serves it. */
export interface StoredDocument {
  data: Record<string, unknown>;
  version: number;
}

/** What `startClientTest` gives a test. */
export interface ClientTest {
  /** The sync instance of the moment (a test that replaces it sets it). */
  sync: SyncUnderTest;
  state: { target: string; intercept: Intercept | undefined };
  client(
    options: Partial<ClientOptions> & Pick<ClientOptions, "storage">,
    uid?: string,
  ): SyncClient;
  /** The stored document, or the status when it is not 200. */
  document(collection: string, id: string): Promise<StoredDocument | number>;
  /** The stored document's version (a test failure when it is missing). */
  version(collection: string, id: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * A sync service under the shared harness, and clients of it whose fetch goes to whichever
 * sync instance `target` names (so a test can kill one and start another behind the same
 * address) through an optional `intercept`.
 */
export async function startClientTest(): Promise<ClientTest> {
  const sync = await startSync();
  const state = { target: sync.url, intercept: undefined as Intercept | undefined };
  const routed: typeof fetch = (input, init = {}) => {
    const url = String(input).replace(baseUrl, state.target);
    const forward = () => fetch(url, init);
    const intercept = state.intercept;
    return intercept
      ? intercept({ url: String(input), method: init.method ?? "GET", init }, forward)
      : forward();
  };
  const clients: SyncClient[] = [];
  const test: ClientTest = {
    sync,
    state,
    client(options, uid = "alice") {
      const client = createClient({
        baseUrl,
        getIdToken: async () => test.sync.token(uid),
        fetch: routed,
        backoff: { baseMs: 50, maxMs: 500 },
        pollIntervalMs: 100,
        ...options,
      });
      clients.push(client);
      return client;
    },
    async document(collection, id) {
      const response = await test.sync.get(`/v1/documents/${collection}/${id}`);
      if (response.status !== 200) return response.status;
      return (await response.json()) as StoredDocument;
    },
    async version(collection, id) {
      const stored = await test.document(collection, id);
      if (typeof stored === "number") throw new Error(`${collection}/${id} answered ${stored}`);
      return stored.version;
    },
    async close() {
      await Promise.all(clients.map((client) => client.close()));
      await test.sync.close();
    },
  };
  return test;
}

/** A fresh file path for a FileStorage. */
export function storagePath(): string {
  return join(mkdtempSync(join(tmpdir(), "syncstack-client-")), "state.jsonl");
}
