import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Firestore } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { freePort, type RunningStack, type StackOptions, startStack } from "@syncstack/local-stack";
import { Publisher, serviceNames } from "@syncstack/shared";
import { emulatorIdToken } from "@syncstack/shared/testing";

/** A whole local stack, every part its own process, with clients on its emulators. */
export interface ChaosStack {
  stack: RunningStack;
  projectId: string;
  db: Firestore;
  pubsub: PubSub;
  storage: Storage;
  publisher: Publisher;
  /** The last output lines of each part, for a failure message. */
  recentOutput(): string;
  stop(): Promise<void>;
}

/**
 * Timings a fault test can wait out: the same code as production with shorter sweep
 * intervals and lease, so recovery shows within seconds instead of a minute.
 */
export const chaosServiceEnv: Record<string, string> = {
  LOG_LEVEL: "WARNING",
  DEADLINE_MS: "3000",
  OUTBOX_SWEEP_INTERVAL_MS: "1000",
  OUTBOX_SWEEP_AGE_MS: "3000",
  SWEEP_INTERVAL_MS: "2000",
  SWEEP_AGE_MS: "3000",
  BACKUP_LEASE_MS: "5000",
  SHUTDOWN_GRACE_MS: "8000",
};

/**
 * Starts the stack on free ports in a temporary state directory. The Firestore emulator keeps
 * every document in its heap and slows to a halt when it fills, so a long run wants more.
 */
export async function startChaosStack(
  projectId: string,
  firestoreHeapMiB = 768,
): Promise<ChaosStack> {
  // The client libraries prefer these variables over the endpoints given to them.
  for (const name of ["PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"])
    delete process.env[name];
  process.env.METADATA_SERVER_DETECTION = "none";
  const stateDir = await mkdtemp(join(tmpdir(), "syncstack-chaos-"));
  const ports = {
    pubsub: await freePort(),
    firestore: await freePort(),
    auth: await freePort(),
    storage: await freePort(),
  } as StackOptions["ports"];
  for (const name of serviceNames) ports[name] = await freePort();
  const lines = new Map<string, string[]>();
  const stack = await startStack({
    projectId,
    ports,
    stateDir,
    persist: false,
    firestoreHeapMiB,
    serviceEnv: chaosServiceEnv,
    output: (part) => (line) => {
      const kept = lines.get(part) ?? [];
      kept.push(`${part} | ${line}`);
      if (kept.length > 40) kept.shift();
      lines.set(part, kept);
    },
  });
  const db = new Firestore({ projectId, host: stack.file.firestore, ssl: false });
  const pubsub = new PubSub({ projectId, apiEndpoint: stack.file.pubsub, emulatorMode: true });
  const storage = new Storage({ projectId, apiEndpoint: stack.file.storage });
  const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
  return {
    stack,
    projectId,
    db,
    pubsub,
    storage,
    publisher,
    recentOutput: () => [...lines.values()].flat().join("\n"),
    stop: async () => {
      await publisher.close().catch(() => {});
      await Promise.allSettled([db.terminate(), pubsub.close()]);
      await stack.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** An accepted write as the client saw it. */
export interface AcceptedSync {
  collection: string;
  document: string;
  version: number;
  uid: string;
}

export interface SyncLoadOptions {
  collection: string;
  /** Concurrent clients; client i writes as user `${userPrefix}-${i % users}`. */
  clients: number;
  users: number;
  userPrefix: string;
  /** Each document is created and then updated this many times, one write at a time. */
  updatesPerDocument?: number;
}

/**
 * Clients that sync documents until stopped, as a real app does: each write carries an
 * Idempotency-Key and is retried on 503, 504 and broken connections (so a write whose answer a
 * crash swallowed is not applied twice). What each client was told is kept: accepted writes,
 * and the statuses and errors of the attempts that failed.
 */
export class SyncLoad {
  readonly accepted: AcceptedSync[] = [];
  readonly failures = new Map<string, number>();
  /** Requests under way: when each was sent and how it ended ("ok", "HTTP 503", "ECONNRESET"). */
  readonly pending = new Set<{ sentAt: number; outcome: Promise<string> }>();
  #latencies: number[] = [];
  readonly #url: string;
  readonly #projectId: string;
  readonly #options: SyncLoadOptions;
  #running = false;
  #workers: Promise<void>[] = [];

  constructor(chaos: ChaosStack, options: SyncLoadOptions) {
    this.#url = chaos.stack.file.services.sync;
    this.#projectId = chaos.projectId;
    this.#options = options;
  }

  start(): this {
    this.#running = true;
    this.#workers = Array.from({ length: this.#options.clients }, (_, i) => this.#client(i));
    return this;
  }

  /** Stops starting new documents; resolves when every client finished its current one. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
  }

  /** Resolves once `count` more writes have been accepted. */
  async acceptedMore(count: number, timeoutMs = 60_000): Promise<void> {
    const target = this.accepted.length + count;
    const deadline = Date.now() + timeoutMs;
    while (this.accepted.length < target) {
      if (Date.now() > deadline) {
        throw new Error(`only ${this.accepted.length} of ${target} writes accepted in time`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Latencies (ms) of the accepted requests since the last call. */
  takeLatencies(): number[] {
    const taken = this.#latencies;
    this.#latencies = [];
    return taken;
  }

  async #client(index: number): Promise<void> {
    const { collection, users, userPrefix, updatesPerDocument = 0 } = this.#options;
    const uid = `${userPrefix}-${index % users}`;
    const token = emulatorIdToken(this.#projectId, uid);
    for (let n = 0; this.#running; n++) {
      const document = `${uid}-c${index}-${n}`;
      for (let write = 0; write <= updatesPerDocument; write++) {
        const body = { collection, document, data: { author: uid, write, n }, source: "chaos" };
        const version = await this.#sync(token, body, `${document}-${write}`);
        if (version === undefined) break; // gave up: later versions would not follow it
        this.accepted.push({ collection, document, version, uid });
      }
    }
  }

  async #sync(token: string, body: object, key: string): Promise<number | undefined> {
    for (let attempt = 1; attempt <= 40; attempt++) {
      let settle: (outcome: string) => void = () => {};
      const request = { sentAt: Date.now(), outcome: new Promise<string>((r) => (settle = r)) };
      this.pending.add(request);
      try {
        const response = await fetch(`${this.#url}/v1/sync`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${token}`,
            "content-type": "application/json",
            "idempotency-key": key,
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
        const answer = (await response.json()) as { version?: number };
        settle(response.ok ? "ok" : `HTTP ${response.status}`);
        if (response.ok && typeof answer.version === "number") {
          this.#latencies.push(Date.now() - request.sentAt);
          return answer.version;
        }
        this.#count(`HTTP ${response.status}`);
        if (response.status !== 503 && response.status !== 504) return undefined;
        const after = Number(response.headers.get("retry-after") ?? 1);
        await new Promise((resolve) => setTimeout(resolve, Math.min(after, 2) * 500));
      } catch (error) {
        const kind = failureKind(error);
        settle(kind);
        this.#count(kind);
        await new Promise((resolve) => setTimeout(resolve, 250));
      } finally {
        this.pending.delete(request);
      }
    }
    return undefined;
  }

  #count(kind: string): void {
    this.failures.set(kind, (this.failures.get(kind) ?? 0) + 1);
  }
}

/** "timeout", or the network error's code (ECONNREFUSED: never reached the server). */
function failureKind(error: unknown): string {
  if ((error as Error).name === "TimeoutError") return "timeout";
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).message;
}

/** Runs a scenario; a failure carries the stack's last output lines, which usually say why. */
export async function scenario(chaos: ChaosStack, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\n--- last output of the stack ---\n${chaos.recentOutput()}`, {
      cause: error,
    });
  }
}
