import { FieldValue, Firestore } from "@google-cloud/firestore";
import { type Message, PubSub } from "@google-cloud/pubsub";
import { type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { emulatorIdToken, resetFirestore } from "@syncstack/shared/testing";
import { keepAliveAgent, requestJson } from "./http-client.ts";
import {
  benchRounds,
  type CpuShare,
  cyclePerWorker,
  fmt,
  formatCpu,
  medianRound,
  meterCpu,
  type PhaseResult,
  percentile,
  runPhase,
  warmUp,
} from "./measure.ts";
import { startBenchService } from "./service-process.ts";

export interface BenchEnv {
  pubsub: string;
  firestore: string;
  pids: { pubsub: number; firestore: number };
}

const projectId = "demo-bench-sync";
const levels = (process.env.BENCH_LEVELS ?? "1,8,32").split(",").map(Number);
const phaseSeconds = Number(process.env.BENCH_SECONDS ?? 5);
/** The target for the ingress at the highest level, as a share of raw `set()`. */
const target = 0.8;
/** Documents each client of the updates phase cycles through. */
const ownDocuments = 8;

interface Pair {
  raw: PhaseResult;
  rawCpu: CpuShare;
  ingress: PhaseResult;
  ingressCpu: CpuShare;
  events: number[];
  /** At the highest level: each client writing its own documents again (updates), both ways. */
  rawUpdates?: PhaseResult;
  rawUpdatesCpu?: CpuShare;
  updates?: PhaseResult;
  updatesCpu?: CpuShare;
}
const ratioOf = (pair: Pair) => pair.ingress.perSecond / pair.raw.perSecond;
const updatesRatioOf = (pair: Pair) =>
  (pair.updates?.perSecond ?? Number.NaN) / (pair.rawUpdates?.perSecond ?? Number.NaN);

const payload = (n: number) => ({
  title: `note ${n}`,
  body: "x".repeat(200),
  tags: ["bench", "sync"],
  meta: { n, author: "bench" },
});

/**
 * `./syncstack bench sync`: POST /v1/sync at 1, 8 and 32 clients over distinct documents, against
 * the sync service running as its own process with its access rules (each client its own user
 * with its own token, in an owner-policy collection), next to plain `set()` calls made by the
 * client library at the same concurrency in the same run; at the highest level also each client
 * updating its own documents; and the time from a request to its event reaching a subscriber.
 */
export async function benchSync(env: BenchEnv): Promise<string> {
  const db = new Firestore({ projectId, host: env.firestore, ssl: false });
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  await provisionTopology(pubsub, [realtimeUpdates], { serviceUrls: {}, nativePolicies: false });
  // The subscriber stands in for the registry's subscribers of the topic, configured as they are.
  const ordered = realtimeUpdates.subscriptions.some((spec) => spec.ordered !== false);
  const [subscription] = await pubsub
    .topic(realtimeUpdates.name)
    .createSubscription("bench-events", { enableMessageOrdering: ordered });
  const sentAt = new Map<string, number>();
  const eventLatencies: number[] = [];
  subscription.on("message", (message: Message) => {
    const event = JSON.parse(message.data.toString()) as RealtimeUpdate;
    const started = sentAt.get(event.document);
    if (started !== undefined) eventLatencies.push(performance.now() - started);
    message.ack();
  });

  const service = await startBenchService("sync", {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: env.pubsub,
    FIRESTORE_EMULATOR_HOST: env.firestore,
  });
  const port = Number(new URL(service.url).port);
  // Each client is its own user: the collection has the owner policy (not named in the rules
  // file), so every write is checked against, and stamped with, its creator.
  const uidOf = (worker: number) => `bench-user-${worker}`;
  const tokens = Array.from({ length: Math.max(...levels) }, (_, worker) =>
    emulatorIdToken(projectId, uidOf(worker)),
  );
  const agent = keepAliveAgent();
  const post = async (worker: number, document: string, n: number) => {
    const { status } = await requestJson(agent, port, {
      method: "POST",
      path: "/v1/sync",
      token: tokens[worker] ?? "",
      body: { collection: "bench_notes", document, data: payload(n), source: "bench" },
    });
    if (status !== 200) throw new Error(`status ${status}`);
  };
  let lastWrite: { document: string; uid: string } | undefined;

  const rows: string[] = [];
  const cpuRows: string[] = [];
  const ratios: number[] = [];
  const groups = { ...env.pids, service: service.process.pid };
  const cpuRow = (name: string, share: CpuShare) => {
    const total = Object.values(share).reduce((sum, ms) => sum + ms, 0);
    cpuRows.push(`| ${name} | ${total.toFixed(2)} | ${formatCpu(share)} |`);
  };
  const rawPhase = (concurrency: number, round: number, own = false) => {
    const next = cyclePerWorker(concurrency, ownDocuments);
    return runPhase(concurrency, phaseSeconds, async (n, worker) => {
      const document = own
        ? `u${round}-c${concurrency}-w${worker}-${next(worker)}`
        : `r${round}-c${concurrency}-${n}`;
      await db
        .collection("bench_raw")
        .doc(document)
        .set({ data: payload(n), updated_at: FieldValue.serverTimestamp(), sync_source: "bench" });
    });
  };
  const ingressPhase = (concurrency: number, round: number) =>
    runPhase(concurrency, phaseSeconds, async (n, worker) => {
      // Fresh ids each round: the service remembers what it wrote before the database was reset.
      const document = `r${round}-c${concurrency}-${n}`;
      sentAt.set(document, performance.now());
      await post(worker, document, n);
      lastWrite = { document, uid: uidOf(worker) };
    });
  // Each client writes its few own documents over and over: after the first write of each, the
  // rules are checked against the creator this instance wrote, with no read.
  const updatesPhase = (concurrency: number, round: number) => {
    const next = cyclePerWorker(concurrency, ownDocuments);
    return runPhase(concurrency, phaseSeconds, async (n, worker) => {
      await post(worker, `u${round}-c${concurrency}-w${worker}-${next(worker)}`, n);
    });
  };
  let warmedSeconds = 0;
  let updatesRatio = Number.NaN;
  try {
    // The emulators are JVMs: in their first half minute under load the JIT compilers take a
    // large, shrinking share of the machine (measured: the Firestore emulator's C2 compiler
    // thread ran 60-70% of a core for ~30 s, then ~1%). Both paths run until that is over, so
    // the rounds compare steady states rather than whichever phase paid for the compiling.
    const warmupConcurrency = Math.max(...levels);
    let warmupRound = 1_000;
    warmedSeconds = await warmUp(async () => {
      const round = warmupRound++;
      await resetFirestore(projectId, env.firestore);
      await rawPhase(warmupConcurrency, round);
      await ingressPhase(warmupConcurrency, round);
    }, Object.values(env.pids));
    for (const concurrency of levels) {
      // Pairs of phases, each from an empty database (the emulator's JVM slows as its heap
      // fills); the pair with the median ratio is reported, so one noisy phase does not decide.
      const pairs: Pair[] = [];
      for (let round = 0; round < benchRounds; round++) {
        await resetFirestore(projectId, env.firestore);
        let cpu = meterCpu(groups);
        const raw = await rawPhase(concurrency, round);
        const rawCpu = cpu(raw.requests);
        await resetFirestore(projectId, env.firestore);
        eventLatencies.length = 0;
        cpu = meterCpu(groups);
        const ingress = await ingressPhase(concurrency, round);
        const ingressCpu = cpu(ingress.requests);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const events = [...eventLatencies].sort((a, b) => a - b);
        await assertOwnerStamped(db, lastWrite);
        const pair: Pair = { raw, rawCpu, ingress, ingressCpu, events };
        if (concurrency === Math.max(...levels)) {
          await resetFirestore(projectId, env.firestore);
          cpu = meterCpu(groups);
          pair.rawUpdates = await rawPhase(concurrency, round, true);
          pair.rawUpdatesCpu = cpu(pair.rawUpdates.requests);
          await resetFirestore(projectId, env.firestore);
          cpu = meterCpu(groups);
          pair.updates = await updatesPhase(concurrency, round);
          pair.updatesCpu = cpu(pair.updates.requests);
        }
        pairs.push(pair);
      }
      const { median, ratio, all } = medianRound(pairs, ratioOf);
      ratios.push(ratio);
      rows.push(
        row(`raw set() x${concurrency}`, median.raw, "1.00", "-", "-"),
        row(
          `POST /v1/sync x${concurrency}`,
          median.ingress,
          benchRounds > 1 ? `${ratio.toFixed(2)} (${all})` : ratio.toFixed(2),
          fmt(percentile(median.events, 0.5)),
          fmt(percentile(median.events, 0.99)),
        ),
      );
      cpuRow(`raw set() x${concurrency}`, median.rawCpu);
      cpuRow(`POST /v1/sync x${concurrency}`, median.ingressCpu);
      if (pairs[0]?.updates) {
        const updates = medianRound(pairs, updatesRatioOf);
        const result = updates.median.updates as PhaseResult;
        rows.push(
          row(
            `raw set() x${concurrency}, own documents again`,
            updates.median.rawUpdates as PhaseResult,
            "1.00",
            "-",
            "-",
          ),
          row(
            `POST /v1/sync x${concurrency}, own documents again (updates)`,
            result,
            benchRounds > 1
              ? `${updates.ratio.toFixed(2)} (${updates.all})`
              : updates.ratio.toFixed(2),
            "-",
            "-",
          ),
        );
        updatesRatio = updates.ratio;
        cpuRow(
          `raw set() x${concurrency}, own documents again`,
          updates.median.rawUpdatesCpu as CpuShare,
        );
        cpuRow(
          `POST /v1/sync x${concurrency}, own documents again`,
          updates.median.updatesCpu as CpuShare,
        );
      }
    }
  } finally {
    await subscription.close();
    agent.destroy();
    await service.process.stop(10_000);
    await pubsub.close();
    await db.terminate();
  }
  return [
    `sync benchmark: after ${fmt(warmedSeconds)} s of both paths as warm-up (until the emulators' JIT compilers went quiet), ${benchRounds} rounds of ${phaseSeconds} s phases per level (median shown), distinct documents, ~300-byte payloads; access rules on (owner policy), each client its own user and token; in the updates phases each client cycles through ${ownDocuments} documents of its own, both ways`,
    "",
    "| phase | writes/s | p50 ms | p99 ms | vs raw set() (each round) | event p50 ms | event p99 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `ingress / raw set() at ${levels.at(-1)} clients: ${ratios.at(-1)?.toFixed(2)}, updates of own documents ${updatesRatio.toFixed(2)} (target >= ${target.toFixed(2)})`,
    "",
    "CPU ms per write by process (CPU time hardly depends on what else the machine runs):",
    "",
    "| phase | total | by process |",
    "| --- | ---: | --- |",
    ...cpuRows,
  ].join("\n");
}

/**
 * Checks that the rules were on for the phase just run: its last document names the client
 * that wrote it as its creator and only reader. Throws if not, so a benchmark of the ingress
 * without its rules cannot pass for one with them.
 */
async function assertOwnerStamped(
  db: Firestore,
  write: { document: string; uid: string } | undefined,
): Promise<void> {
  if (!write) throw new Error("no write succeeded in the phase");
  const snapshot = await db.collection("bench_notes").doc(write.document).get();
  const readers = Object.keys((snapshot.get("readers") as Record<string, unknown>) ?? {});
  if (snapshot.get("created_by") !== write.uid || readers.join() !== write.uid) {
    throw new Error(
      `bench_notes/${write.document} has created_by ${snapshot.get("created_by")} and readers [${readers}], not ${write.uid}: are the access rules on?`,
    );
  }
}

function row(
  name: string,
  result: PhaseResult,
  ratio: string,
  eventP50: string,
  eventP99: string,
): string {
  const errors = result.errors > 0 ? ` (${result.errors} errors)` : "";
  return `| ${name}${errors} | ${fmt(result.perSecond)} | ${fmt(result.p50Ms)} | ${fmt(result.p99Ms)} | ${ratio} | ${eventP50} | ${eventP99} |`;
}
