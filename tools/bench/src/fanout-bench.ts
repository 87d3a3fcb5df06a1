import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Firestore, type Timestamp } from "@google-cloud/firestore";
import { type Message, PubSub, type Subscription } from "@google-cloud/pubsub";
import { AccessRules, createLogger, type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { emulatorIdToken, resetFirestore } from "@syncstack/shared/testing";
import { feedOf, LiveChanges } from "@syncstack/sync";
import { keepAliveAgent, requestJson } from "./http-client.ts";
import { type CpuShare, fmt, meterCpu, percentile } from "./measure.ts";
import { startBenchService } from "./service-process.ts";
import type { BenchEnv } from "./sync-bench.ts";

const projectId = "demo-bench-fanout";
/** Writes per second through instance A (`BENCH_FANOUT_RATES`). */
const rates = (process.env.BENCH_FANOUT_RATES ?? "10,50").split(",").map(Number);
/** Subscribing instances B (`BENCH_FANOUT_INSTANCES`). */
const instanceLevels = (process.env.BENCH_FANOUT_INSTANCES ?? "1,4,16").split(",").map(Number);
/** Seconds of writes per phase (`BENCH_FANOUT_SECONDS`). */
const seconds = Number(process.env.BENCH_FANOUT_SECONDS ?? 5);
const collection = "bench_fanout";
const writerUid = "bench-fanout-writer";
const modes = ["listener", "pubsub"] as const;
type Mode = (typeof modes)[number];

const epochMs = () => performance.timeOrigin + performance.now();
const logger = createLogger({ projectId, level: "WARNING" });
const rules = new AccessRules({ [collection]: { policy: "shared-read" } });

/** What one subscribing instance saw of the phase's writes. */
interface Seen {
  /** document id -> commit-to-arrival ms (arrival minus the stored updated_at), first arrival. */
  latency: Map<string, number>;
  /** Arrivals of a document already seen. */
  duplicates: number;
  /** Arrivals whose commit clock is before one this instance already had (feed order broken). */
  outOfOrder: number;
  /** Documents read to learn what an event was about (Pub/Sub only). */
  reads: number;
  /** Documents the instance was handed (listener snapshots or reads), repeats included. */
  delivered: number;
  errors: number;
  latest: number;
}

/** One instance B holding the phase's subscription, and how to stop it. */
interface Instance {
  seen: Seen;
  stop(): Promise<void>;
}

function newSeen(): Seen {
  return {
    latency: new Map(),
    duplicates: 0,
    outOfOrder: 0,
    reads: 0,
    delivered: 0,
    errors: 0,
    latest: 0,
  };
}

/** Notes a document reaching an instance if it is one of the phase's (`prefix`). */
function arrive(seen: Seen, prefix: string, id: string, updatedAt: Timestamp | undefined): void {
  if (!id.startsWith(prefix) || !updatedAt) return;
  const at = epochMs();
  seen.delivered++;
  if (seen.latency.has(id)) {
    seen.duplicates++;
    return;
  }
  const committed = updatedAt.toMillis();
  if (committed < seen.latest) seen.outOfOrder++;
  seen.latest = Math.max(seen.latest, committed);
  seen.latency.set(id, at - committed);
}

/**
 * (a) As the sync service does: an instance's Firestore client (its own connection) and one
 * shared `LiveChanges` listener on the feed of a reader who reads everything.
 */
async function startListener(prefix: string): Promise<Instance> {
  const db = new Firestore({ projectId });
  const live = new LiveChanges(logger, { share: true });
  const seen = newSeen();
  const feed = feedOf(db, rules, { uid: "bench-fanout-reader", claims: {} }, collection);
  const unsubscribe = await live.subscribe(feed, (docs) => {
    for (const doc of docs) arrive(seen, prefix, doc.id, doc.get("updated_at"));
  });
  return {
    seen,
    stop: async () => {
      unsubscribe();
      live.close();
      await db.terminate();
    },
  };
}

/**
 * (b) A Pub/Sub fan-out: a subscription of the instance's own to `realtime-updates` (as the
 * outbox publishes it), consumed by streaming pull with the flow control the services' pull
 * consumers use; the event carries no data, so each one costs a document read before the
 * instance could send it. Stopping deletes the subscription, as scale-in would have to.
 */
async function startSubscriber(
  pubsub: PubSub,
  name: string,
  prefix: string,
  timing: { createMs: number[]; deleteMs: number[] },
): Promise<Instance> {
  const db = new Firestore({ projectId });
  const created = performance.now();
  const [subscription] = await pubsub.topic(realtimeUpdates.name).createSubscription(name, {
    ackDeadlineSeconds: 30,
  });
  timing.createMs.push(performance.now() - created);
  const seen = newSeen();
  const pulled: Subscription = pubsub.subscription(subscription.name, {
    flowControl: { maxMessages: 100, allowExcessMessages: false },
  });
  pulled.on("message", (message: Message) => {
    const event = JSON.parse(message.data.toString()) as RealtimeUpdate;
    if (event.collection !== collection) {
      message.ack();
      return;
    }
    seen.reads++;
    db.collection(collection)
      .doc(event.document)
      .get()
      .then(
        (doc) => {
          message.ack();
          arrive(seen, prefix, doc.id, doc.get("updated_at"));
        },
        () => {
          seen.errors++;
          message.nack();
        },
      );
  });
  pulled.on("error", () => {
    seen.errors++;
  });
  return {
    seen,
    stop: async () => {
      await pulled.close();
      const deleting = performance.now();
      await subscription.delete();
      timing.deleteMs.push(performance.now() - deleting);
      await db.terminate();
    },
  };
}

interface Row {
  mode: Mode;
  instances: number;
  rate: number;
  writes: number;
  /** Commit-to-arrival ms over every instance and write, sorted. */
  latency: number[];
  /** Arrivals that never came within a minute (writes x instances). */
  missing: number;
  duplicates: number;
  outOfOrder: number;
  /** Per write and instance: documents handed to the instance, and documents it read. */
  deliveredPerWrite: number;
  readsPerWrite: number;
  /** Time to start all the instances' subscriptions (subscribe, or create the subscription). */
  startMs: number;
  /** Pub/Sub: mean ms to delete one subscription at the phase's end. */
  deleteMs: number | undefined;
  cpu: CpuShare;
}

/**
 * `./syncstack bench fanout`: a write through sync instance A (its own process, `POST /v1/sync`)
 * reaching N subscribing instances B, measured both ways in the same run: (a) a Firestore
 * listener per instance on the feed's query (`LiveChanges`, as the sync service runs it), (b)
 * a Pub/Sub subscription per instance on `realtime-updates` (streaming pull) and a document
 * read per event. The B instances run in the benchmark's process, each with its own clients.
 */
export async function benchFanout(env: BenchEnv): Promise<string> {
  process.env.FIRESTORE_EMULATOR_HOST = env.firestore;
  process.env.PUBSUB_EMULATOR_HOST = env.pubsub;
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  await provisionTopology(pubsub, [realtimeUpdates], { serviceUrls: {}, nativePolicies: false });
  await resetFirestore(projectId, env.firestore);
  const directory = mkdtempSync(join(tmpdir(), "bench-fanout-"));
  const rulesFile = join(directory, "access-rules.json");
  writeFileSync(
    rulesFile,
    JSON.stringify({ collections: { [collection]: { policy: "shared-read" } } }),
  );
  const service = await startBenchService("sync", {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: env.pubsub,
    FIRESTORE_EMULATOR_HOST: env.firestore,
    ACCESS_RULES_FILE: rulesFile,
  });
  const port = Number(new URL(service.url).port);
  // An agent per phase: between phases the instance closes idle keep-alive sockets, and a
  // write sent on one as it closes would hang up.
  let agent = keepAliveAgent();
  const token = emulatorIdToken(projectId, writerUid);
  const groups = { ...env.pids, sync: service.process.pid };
  let sequence = 0;
  const write = async (document: string) => {
    const { status } = await requestJson(agent, port, {
      method: "POST",
      path: "/v1/sync",
      token,
      body: { collection, document, data: { n: sequence++, body: "x".repeat(200) } },
    });
    if (status !== 200) throw new Error(`POST /v1/sync ${document}: status ${status}`);
  };
  let phaseNumber = 0;
  const phase = async (mode: Mode, instances: number, rate: number): Promise<Row> => {
    const prefix = `p${phaseNumber++}-`;
    agent.destroy();
    agent = keepAliveAgent();
    const timing = { createMs: [] as number[], deleteMs: [] as number[] };
    const starting = performance.now();
    const held = await Promise.all(
      Array.from({ length: instances }, (_, n) =>
        mode === "listener"
          ? startListener(prefix)
          : startSubscriber(pubsub, `bench-fanout-${prefix}${n}`, prefix, timing),
      ),
    );
    const startMs = performance.now() - starting;
    let row: Row;
    try {
      // Every instance live (a write made now reached it) before the timed writes.
      await write(`${prefix}ready`);
      // One that never is (seen once in a 16-listener phase on the emulator) is reported, not fatal.
      await settled(() => held.every((instance) => instance.seen.latency.has(`${prefix}ready`)));
      const count = Math.max(1, Math.round(rate * seconds));
      const ids = Array.from({ length: count }, (_, i) => `${prefix}w${i}`);
      const cpu = meterCpu(groups);
      const began = performance.now();
      // Open loop: each write starts on its schedule, whether the one before answered or not.
      await Promise.all(
        ids.map(async (id, i) => {
          const wait = began + (i * 1_000) / rate - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          await write(id);
        }),
      );
      await settled(() =>
        held.every((instance) => ids.every((id) => instance.seen.latency.has(id))),
      );
      // Late repeats have a moment to show.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const share = cpu(count);
      const latency: number[] = [];
      let missing = 0;
      let duplicates = 0;
      let outOfOrder = 0;
      let delivered = 0;
      let reads = 0;
      for (const { seen } of held) {
        for (const id of ids) {
          const ms = seen.latency.get(id);
          if (ms === undefined) missing++;
          else latency.push(ms);
        }
        duplicates += seen.duplicates;
        outOfOrder += seen.outOfOrder;
        // The ready write counts too.
        delivered += seen.delivered;
        reads += seen.reads;
      }
      latency.sort((a, b) => a - b);
      const perWrite = (total: number) => total / ((count + 1) * instances);
      row = {
        mode,
        instances,
        rate,
        writes: count,
        latency,
        missing,
        duplicates,
        outOfOrder,
        deliveredPerWrite: perWrite(delivered),
        readsPerWrite: perWrite(reads),
        startMs,
        deleteMs: undefined,
        cpu: share,
      };
    } finally {
      await Promise.all(held.map((instance) => instance.stop()));
    }
    const deleted = timing.deleteMs;
    if (deleted.length > 0) {
      row.deleteMs = deleted.reduce((sum, value) => sum + value, 0) / deleted.length;
    }
    return row;
  };
  const rows: Row[] = [];
  try {
    // Warm-up, not reported: the emulators' and the instance's first writes, listeners and pulls.
    for (const mode of modes) await phase(mode, 4, rates.at(-1) ?? 10);
    for (const instances of instanceLevels) {
      for (const [index, rate] of rates.entries()) {
        // Alternating which goes first, so neither always runs on a machine the other warmed.
        const order = index % 2 === 0 ? modes : [...modes].reverse();
        for (const mode of order) rows.push(await phase(mode, instances, rate));
      }
    }
  } finally {
    agent.destroy();
    await service.process.stop(10_000);
    rmSync(directory, { recursive: true, force: true });
    await pubsub.close();
  }
  return report(rows);
}

/** Waits until `check` holds or a minute passed. */
async function settled(check: () => boolean): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!check() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function report(rows: readonly Row[]): string {
  const ms = (sorted: readonly number[], fraction: number) => fmt(percentile(sorted, fraction));
  const lines = [
    `fan-out benchmark: writes through sync instance A (its own process, POST /v1/sync, open loop, ${seconds} s per phase) reaching N instances B, (a) listener: a LiveChanges Firestore listener per instance on the feed, (b) pubsub: a realtime-updates subscription per instance (streaming pull) and a document read per event; commit-to-arrival is arrival minus the stored updated_at; CPU ms per write`,
    "",
    "| instances | writes/s | mode | p50 / p99 ms | p99 pubsub / listener | docs handed per write per instance | reads per write per instance | missing | duplicates | out of commit order | start all ms | delete one subscription ms | CPU ms per write |",
    "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const row of rows) {
    const other = rows.find(
      (candidate) =>
        candidate.instances === row.instances &&
        candidate.rate === row.rate &&
        candidate.mode === "listener",
    );
    const ratio =
      row.mode === "pubsub" && other
        ? (percentile(row.latency, 0.99) / percentile(other.latency, 0.99)).toFixed(2)
        : "";
    lines.push(
      `| ${row.instances} | ${row.rate} | ${row.mode} | ${ms(row.latency, 0.5)} / ${ms(row.latency, 0.99)} | ${ratio} | ${row.deliveredPerWrite.toFixed(2)} | ${row.readsPerWrite.toFixed(2)} | ${row.missing} | ${row.duplicates} | ${row.outOfOrder} | ${fmt(row.startMs)} | ${row.deleteMs === undefined ? "" : fmt(row.deleteMs)} | ${Object.entries(
        row.cpu,
      )
        .map(([name, value]) => `${name} ${value.toFixed(1)}`)
        .join(", ")} |`,
    );
  }
  return lines.join("\n");
}
