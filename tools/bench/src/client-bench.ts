import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PubSub } from "@google-cloud/pubsub";
import {
  type ClientStorage,
  createClient,
  FileStorage,
  MemoryStorage,
} from "@syncstack/client/node";
import { realtimeUpdates } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { emulatorIdToken, resetFirestore } from "@syncstack/shared/testing";
import { chunks } from "./feed-pages.ts";
import { keepAliveAgent, requestJson } from "./http-client.ts";
import {
  benchRounds,
  type CpuShare,
  fmt,
  formatCpu,
  medianRound,
  meterCpu,
  warmUp,
} from "./measure.ts";
import { startBenchService } from "./service-process.ts";
import type { BenchEnv } from "./sync-bench.ts";

const projectId = "demo-bench-client";
/** Changes queued offline and then drained (`BENCH_CLIENT_CHANGES`). */
const changeCount = Number(process.env.BENCH_CLIENT_CHANGES ?? 10_000);
/** The client's storages measured (`BENCH_CLIENT_STORAGES`: memory, file). */
const storages = (process.env.BENCH_CLIENT_STORAGES ?? "memory,file").split(",") as Array<
  "memory" | "file"
>;
/** The client's default batch size; it keeps one batch in flight, so the baseline does too. */
const batchSize = 100;
const collection = "bench_client";
/** The brief's target: the client's drain at least this share of straight `:batch`. */
const target = 0.8;
const uid = "bench-client-user";

const payload = (n: number) => ({
  title: `note ${n}`,
  body: "x".repeat(200),
  tags: ["bench", "client"],
  meta: { n, author: "bench" },
});

interface Drain {
  seconds: number;
  /** Time spent in requests (sent until answered): the rest is the sender's own. */
  requestSeconds: number;
  requests: number;
  cpu: CpuShare;
}

interface Round {
  straight: Drain;
  client: Record<string, Drain>;
}

/**
 * `./syncstack bench client`: an outbox of 10,000 changes queued offline and drained by the
 * client SDK (`@syncstack/client/node`, memory and file storage) once it goes online, timed until
 * the outbox is empty and every change acknowledged, next to the same changes sent straight to
 * `POST /v1/sync:batch` in batches of the client's size, one at a time as the client sends them,
 * with the same token and an idempotency key each, in the same run.
 */
export async function benchClient(env: BenchEnv): Promise<string> {
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  await provisionTopology(pubsub, [realtimeUpdates], { serviceUrls: {}, nativePolicies: false });
  const service = await startBenchService("sync", {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: env.pubsub,
    FIRESTORE_EMULATOR_HOST: env.firestore,
  });
  const port = Number(new URL(service.url).port);
  const token = emulatorIdToken(projectId, uid);
  const agent = keepAliveAgent();
  const directory = mkdtempSync(join(tmpdir(), "bench-client-"));
  const groups = { ...env.pids, service: service.process.pid };
  const changesOf = (prefix: string, count: number) =>
    Array.from({ length: count }, (_, n) => ({ document: `${prefix}-${n}`, data: payload(n) }));

  /** The same changes sent straight: `:batch` requests of `batchSize`, one after another. */
  const straight = async (prefix: string, count: number): Promise<Drain> => {
    const changes = changesOf(prefix, count).map((change) => ({ collection, ...change }));
    const cpu = meterCpu(groups);
    const started = performance.now();
    let requestMs = 0;
    let requests = 0;
    for (const batch of chunks(changes, batchSize)) {
      const sent = performance.now();
      const { status, body } = await requestJson(agent, port, {
        method: "POST",
        path: "/v1/sync:batch",
        token,
        body: { changes: batch },
        headers: { "idempotency-key": crypto.randomUUID() },
        read: true,
      });
      requestMs += performance.now() - sent;
      requests++;
      const failed = (body as { failed?: number } | undefined)?.failed;
      if (status !== 200 || failed !== 0) {
        throw new Error(`straight :batch answered ${status} with ${failed} failed`);
      }
    }
    const seconds = (performance.now() - started) / 1_000;
    return { seconds, requestSeconds: requestMs / 1_000, requests, cpu: cpu(count) };
  };

  /** The client: changes queued offline (untimed), then online until all are acknowledged. */
  const drain = async (kind: "memory" | "file", prefix: string, count: number): Promise<Drain> => {
    const path = join(directory, `${prefix}.jsonl`);
    const storage: ClientStorage = kind === "memory" ? new MemoryStorage() : new FileStorage(path);
    let requestMs = 0;
    let requests = 0;
    const client = createClient({
      baseUrl: service.url,
      getIdToken: async () => token,
      storage,
      online: false,
      // Times each request until its answer's headers (reading the body counts as the client's).
      fetch: async (input, init) => {
        const sent = performance.now();
        try {
          return await fetch(input, init);
        } finally {
          requestMs += performance.now() - sent;
          requests++;
        }
      },
    });
    let acks = 0;
    const refusals: string[] = [];
    client.on("ack", () => acks++);
    client.on("rejected", (event) => refusals.push(`${event.status} ${event.message}`));
    try {
      await client.ready;
      await client.batch(
        changesOf(prefix, count).map((change) => ({
          op: "put" as const,
          collection,
          id: change.document,
          data: change.data,
        })),
      );
      if (client.pending().length !== count) {
        throw new Error(`${kind}: ${client.pending().length} changes queued, not ${count}`);
      }
      const cpu = meterCpu(groups);
      const started = performance.now();
      client.setOnline(true);
      await client.flush();
      const seconds = (performance.now() - started) / 1_000;
      const share = cpu(count);
      if (refusals.length > 0) throw new Error(`${kind}: changes refused: ${refusals[0]}`);
      if (acks !== count) throw new Error(`${kind}: ${acks} changes acknowledged, not ${count}`);
      return { seconds, requestSeconds: requestMs / 1_000, requests, cpu: share };
    } finally {
      await client.close();
      rmSync(path, { force: true });
    }
  };

  const rounds: Round[] = [];
  let warmedSeconds = 0;
  try {
    let warmupRound = 0;
    warmedSeconds = await warmUp(async () => {
      const prefix = `w${warmupRound++}`;
      await resetFirestore(projectId, env.firestore);
      await straight(`${prefix}-straight`, 2_000);
      for (const kind of storages) await drain(kind, `${prefix}-${kind}`, 2_000);
    }, Object.values(env.pids));
    for (let round = 0; round < benchRounds; round++) {
      // Each round starts with another path, so drift within a round favours none of them.
      const order = ["straight", ...storages];
      const rotated = order.map((_, index) => order[(index + round) % order.length] as string);
      const client: Record<string, Drain> = {};
      let baseline: Drain | undefined;
      for (const path of rotated) {
        // Fresh ids each round and phase: the service remembers the versions it wrote.
        await resetFirestore(projectId, env.firestore);
        if (path === "straight") baseline = await straight(`r${round}-straight`, changeCount);
        else
          client[path] = await drain(path as "memory" | "file", `r${round}-${path}`, changeCount);
      }
      if (!baseline) throw new Error("the straight :batch phase did not run");
      const measured: Round = { straight: baseline, client };
      rounds.push(measured);
    }
  } finally {
    agent.destroy();
    rmSync(directory, { recursive: true, force: true });
    await service.process.stop(10_000);
    await pubsub.close();
  }
  return report(rounds, warmedSeconds);
}

function report(rounds: readonly Round[], warmedSeconds: number): string {
  const rate = (drain: Drain) => changeCount / drain.seconds;
  /** The share of the drain spent waiting for answers. */
  const busy = (drain: Drain) => drain.requestSeconds / drain.seconds;
  /** Its own time between requests, ms per request. */
  const gapMs = (drain: Drain) =>
    ((drain.seconds - drain.requestSeconds) * 1_000) / Math.max(1, drain.requests);
  const lines = [
    `client benchmark: ${changeCount.toLocaleString("en-US")} changes (distinct documents, ~300-byte payloads, owner policy, one user) queued offline and drained by @syncstack/client/node once online, until the outbox is empty and every change acknowledged, next to the same changes sent straight to POST /v1/sync:batch (${batchSize} a request, one in flight, as the client sends them; same token, an Idempotency-Key each); ${fmt(warmedSeconds)} s of warm-up, ${rounds.length} rounds, each starting with another path (median shown, each round's ratio in brackets)`,
    "",
    "The wall-time ratio follows the server's speed in each phase, which the shared machine swings; the time each sender spends between requests (its own work and storage) does not, and the share of the drain spent waiting for answers, over the baseline's, is the ratio the client would get if both met the same server.",
    "",
    "| path | changes/s | s | vs straight :batch (each round) | ms between requests | waiting share | waiting share vs straight (each round) | CPU ms per change |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  const baseline = medianRound(rounds, (round) => rate(round.straight)).median.straight;
  lines.push(
    `| straight :batch x1 | ${fmt(rate(baseline))} | ${baseline.seconds.toFixed(2)} | 1.00 | ${gapMs(baseline).toFixed(2)} | ${busy(baseline).toFixed(3)} | 1.00 | ${formatCpu(baseline.cpu)} |`,
  );
  const summary: string[] = [];
  for (const kind of Object.keys(rounds[0]?.client ?? {})) {
    const drainOf = (round: Round) => round.client[kind] as Drain;
    const ratioOf = (round: Round) => rate(drainOf(round)) / rate(round.straight);
    const busyRatioOf = (round: Round) => busy(drainOf(round)) / busy(round.straight);
    const { median, ratio, all } = medianRound(rounds, ratioOf);
    const own = medianRound(rounds, busyRatioOf);
    const drain = drainOf(median);
    lines.push(
      `| client, ${kind} storage | ${fmt(rate(drain))} | ${drain.seconds.toFixed(2)} | ${ratio.toFixed(2)} (${all}) | ${gapMs(drainOf(own.median)).toFixed(2)} | ${busy(drainOf(own.median)).toFixed(3)} | ${own.ratio.toFixed(2)} (${own.all}) | ${formatCpu(drain.cpu)} |`,
    );
    summary.push(`${kind} ${ratio.toFixed(2)} (waiting share ${own.ratio.toFixed(2)})`);
  }
  lines.push(
    "",
    `client drain / straight :batch: ${summary.join(", ")} (target >= ${target.toFixed(2)})`,
  );
  return lines.join("\n");
}
