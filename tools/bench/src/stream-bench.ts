import { type IncomingMessage, request } from "node:http";
import { FieldValue, Firestore } from "@google-cloud/firestore";
import type { EmulatorSession } from "@syncstack/local-stack";
import { emulatorIdToken } from "@syncstack/shared/testing";
import { type CpuShare, fmt, meterCpu, percentile, rssKiB, until } from "./measure.ts";
import { type BenchService, startBenchService } from "./service-process.ts";

const projectId = "demo-bench-stream";
const levels = (process.env.BENCH_STREAMS ?? "10,50,200").split(",").map(Number);
const writes = Number(process.env.BENCH_STREAM_WRITES ?? 40);
const modes = ["shared", "per-connection"] as const;
type Mode = (typeof modes)[number];

interface Row {
  mode: Mode;
  streams: number;
  openMs: number;
  latency: number[];
  cpu: CpuShare;
  rssMiB: number;
}

/** A change stream the bench holds: when each document's event arrived. */
interface Held {
  arrived: Map<string, number>;
  response: IncomingMessage;
}

function hold(service: BenchService, collection: string, token: string): Promise<Held> {
  const url = new URL(`${service.url}/v1/changes?collection=${collection}`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent: false, headers: { accept: "text/event-stream", authorization: `Bearer ${token}` } },
      (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`stream answered ${response.statusCode}`));
          return;
        }
        const arrived = new Map<string, number>();
        let buffer = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          buffer += chunk;
          let end = buffer.indexOf("\n\n");
          while (end >= 0) {
            const match = /"document":"([^"]+)"/.exec(buffer.slice(0, end));
            if (match?.[1]) arrived.set(match[1], performance.now());
            buffer = buffer.slice(end + 2);
            end = buffer.indexOf("\n\n");
          }
        });
        resolve({ arrived, response });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function measure(env: EmulatorSession, db: Firestore, mode: Mode, n: number): Promise<Row> {
  const service = await startBenchService("sync", {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: env.pubsub,
    FIRESTORE_EMULATOR_HOST: env.firestore,
    STREAM_LISTENERS: mode,
    STREAM_MAX_CONNECTIONS: String(n + 10),
  });
  const held: Held[] = [];
  try {
    const collection = `bench_stream_${mode.replace("-", "_")}_${n}`;
    const token = emulatorIdToken(projectId, "bench", { admin: true });
    const write = (id: string) =>
      db.collection(collection).doc(id).set({
        data: { id },
        version: 1,
        sync_source: "bench",
        created_by: "bench",
        readers: {},
        updated_at: FieldValue.serverTimestamp(),
      });
    // Opened until every stream is live: each has received a write made after it opened.
    const opening = performance.now();
    for (let i = 0; i < n; i += 25) {
      const batch = Math.min(25, n - i);
      held.push(
        ...(await Promise.all(
          Array.from({ length: batch }, () => hold(service, collection, token)),
        )),
      );
    }
    await write("ready");
    await until("every stream live", () => held.every((stream) => stream.arrived.has("ready")));
    const openMs = performance.now() - opening;

    const groups = { firestore: env.pids.firestore, service: service.process.pid };
    const cpu = meterCpu(groups);
    const sentAt = new Map<string, number>();
    for (let i = 0; i < writes; i++) {
      const id = `w${i}`;
      sentAt.set(id, performance.now());
      await write(id);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await until("every write on every stream", () =>
      held.every((stream) => [...sentAt.keys()].every((id) => stream.arrived.has(id))),
    );
    const share = cpu(writes);
    const latency: number[] = [];
    for (const stream of held)
      for (const [id, sent] of sentAt) latency.push((stream.arrived.get(id) ?? sent) - sent);
    latency.sort((a, b) => a - b);
    return {
      mode,
      streams: n,
      openMs,
      latency,
      cpu: share,
      rssMiB: rssKiB(service.process.pid) / 1_024,
    };
  } finally {
    for (const stream of held) stream.response.destroy();
    await service.process.stop();
  }
}

/** `./syncstack bench stream`: N change streams on one instance, one listener each vs one shared. */
export async function benchStream(env: EmulatorSession): Promise<string> {
  process.env.FIRESTORE_EMULATOR_HOST = env.firestore;
  const db = new Firestore({ projectId });
  const rows: Row[] = [];
  try {
    for (const n of levels) for (const mode of modes) rows.push(await measure(env, db, mode, n));
  } finally {
    await db.terminate();
  }
  const lines = [
    `Change streams (${writes} writes, one every ~25 ms, each to every stream; CPU ms per write)`,
    "",
    "| listeners | streams | open all (ms) | latency p50 (ms) | p99 (ms) | sync CPU | emulator CPU | client CPU | sync RSS (MiB) |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.mode} | ${row.streams} | ${fmt(row.openMs)} | ${fmt(percentile(row.latency, 0.5))} | ${fmt(percentile(row.latency, 0.99))} | ${fmt(row.cpu.service ?? 0)} | ${fmt(row.cpu.firestore ?? 0)} | ${fmt(row.cpu.client ?? 0)} | ${fmt(row.rssMiB)} |`,
    );
  }
  return lines.join("\n");
}
