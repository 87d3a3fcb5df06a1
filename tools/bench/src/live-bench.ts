import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent, type ClientRequest, type IncomingMessage, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PubSub } from "@google-cloud/pubsub";
import { freePort } from "@syncstack/local-stack";
import { realtimeUpdates } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { emulatorIdToken, resetFirestore } from "@syncstack/shared/testing";
import { keepAliveAgent, requestJson } from "./http-client.ts";
import {
  collectGarbage,
  type HeapBreakdown,
  heapBreakdown,
  heapSnapshot,
  sampleAllocations,
} from "./inspector-gc.ts";
import {
  benchRounds,
  type CpuShare,
  fmt,
  formatCpu,
  meterCpu,
  percentile,
  rssKiB,
  until,
} from "./measure.ts";
import { startBenchService } from "./service-process.ts";
import type { BenchEnv } from "./sync-bench.ts";

const projectId = "demo-bench-live";
/** Live streams held at once on the one instance (`BENCH_LIVE_STREAMS`). */
const streamCount = Number(process.env.BENCH_LIVE_STREAMS ?? 1_000);
/** Writes per round whose arrival every stream times (`BENCH_LIVE_WRITES`). */
const writeCount = Number(process.env.BENCH_LIVE_WRITES ?? 30);
/** Between two timed writes, so each one's fan-out is over before the next (`BENCH_LIVE_GAP_MS`). */
const gapMs = Number(process.env.BENCH_LIVE_GAP_MS ?? 200);
/** Streams opened at once while opening them all. */
const openConcurrency = 50;
/** Writes each stream catches up in the reconnect storm (`BENCH_LIVE_STORM_WRITES`). */
const stormWrites = Number(process.env.BENCH_LIVE_STORM_WRITES ?? 30);
const collection = "bench_live";
const writerUid = "bench-live-writer";
const targets = { p99Ms: 250, kibPerStream: 50 };
/**
 * `BENCH_LIVE_HEAP_SNAPSHOTS=dir` writes a heap snapshot of the instance there with no stream
 * and with all of them (after the RSS readings, so after a full collection), to compare in
 * Chrome's DevTools (Memory, Comparison).
 */
const snapshotDir = process.env.BENCH_LIVE_HEAP_SNAPSHOTS;
/**
 * `BENCH_LIVE_ALLOCATIONS=dir` writes there a sampling heap profile of the instance opening
 * the first half of the streams, garbage included: where opening a stream allocates.
 */
const allocationsDir = process.env.BENCH_LIVE_ALLOCATIONS;

const readerUid = (n: number) => `bench-live-reader-${n}`;
const epochMs = () => performance.timeOrigin + performance.now();

/** One live stream the benchmark holds open: when each document's event reached it. */
interface HeldStream {
  /** document id -> arrival (epoch ms) and the item's stored updated_at (epoch ms). */
  arrivals: Map<string, { at: number; updatedAt: number }>;
  request: ClientRequest;
  response: IncomingMessage;
  ended: string | undefined;
  /** The last event's id (its cursor). */
  lastId: string | undefined;
}

/**
 * Opens `GET /v1/changes` as a live stream (`Accept: text/event-stream`) with raw node:http and
 * notes each change event's arrival. Refuses a JSON answer: the route streams only once the
 * live-stream work is merged.
 */
function openStream(
  agent: Agent,
  port: number,
  token: string,
  since: string | undefined,
): Promise<HeldStream> {
  const query = new URLSearchParams({ collection });
  if (since !== undefined) query.set("since", since);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        path: `/v1/changes?${query}`,
        headers: { accept: "text/event-stream", authorization: `Bearer ${token}` },
      },
      (response) => {
        const type = response.headers["content-type"] ?? "";
        if (response.statusCode !== 200 || !type.startsWith("text/event-stream")) {
          response.resume();
          reject(
            new Error(
              `GET /v1/changes with Accept: text/event-stream answered ${response.statusCode} ${type}, not a stream (is the live stream route in this build?)`,
            ),
          );
          return;
        }
        const held: HeldStream = {
          arrivals: new Map(),
          request: req,
          response,
          ended: undefined,
          lastId: undefined,
        };
        let buffer = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          const at = epochMs();
          buffer += chunk;
          for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
            const event = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (event.includes("event: end")) held.ended = event;
            if (!event.includes("event: change")) continue;
            held.lastId = /^id: (.*)$/m.exec(event)?.[1] ?? held.lastId;
            // Only two fields of the item are needed; a regex spares 1,000 JSON parses a write.
            const document = /"document":"([^"]+)"/.exec(event)?.[1];
            const updatedAt = /"updated_at":"([^"]+)"/.exec(event)?.[1];
            if (document && updatedAt) {
              held.arrivals.set(document, { at, updatedAt: Date.parse(updatedAt) });
            }
          }
        });
        response.on("end", () => {
          held.ended ??= "closed by the server";
        });
        resolve(held);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** An RSS reading (the median of five samples 200 ms apart) and V8's heap then. */
interface Reading {
  kib: number;
  heap: HeapBreakdown;
}

/**
 * The RSS of the instance 2 s after the streams opened ("opened"), once the runtime has settled
 * by itself ("idle"), and after a full garbage collection forced through its inspector.
 */
interface Rss {
  opened: Reading;
  idle: Reading;
  afterGc: Reading;
  /** Seconds until the runtime settled (or the wait ran out). */
  idleAfterS: number;
}

type Moment = "opened" | "idle" | "afterGc";

/**
 * The longest wait for the runtime to settle (`BENCH_LIVE_IDLE_WAIT_MS`). V8's memory reducer
 * runs memory-reducing full collections once a process has allocated little for a while (about
 * 45 s in a quiet one): they free what the garbage of the catch-ups held and shrink the young
 * generation back to its initial size, which no ordinary collection does.
 */
const idleWaitMs = Number(process.env.BENCH_LIVE_IDLE_WAIT_MS ?? 120_000);
/** A young generation this small has been shrunk back (it starts at 1 MiB). */
const settledYoungKiB = 4_096;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function reading(pid: number, inspectPort: number): Promise<Reading> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(rssKiB(pid));
    await sleep(200);
  }
  const kib = samples.sort((a, b) => a - b)[2] ?? Number.NaN;
  return { kib, heap: await heapBreakdown(inspectPort) };
}

async function measureRss(pid: number, inspectPort: number): Promise<Rss> {
  await sleep(2_000);
  const opened = await reading(pid, inspectPort);
  const waiting = performance.now();
  let heap = opened.heap;
  while (heap.youngCommittedKiB > settledYoungKiB && performance.now() - waiting < idleWaitMs) {
    await sleep(2_000);
    heap = await heapBreakdown(inspectPort);
  }
  const idleAfterS = (performance.now() - waiting) / 1_000;
  const idle = await reading(pid, inspectPort);
  await collectGarbage(inspectPort);
  await sleep(500);
  return { opened, idle, afterGc: await reading(pid, inspectPort), idleAfterS };
}

/** Latencies of one set of streams over the timed writes. */
interface Fanout {
  streams: number;
  /** From the stored updated_at (the item's) to the arrival, ms, sorted. */
  fromStored: number[];
  /** From the writer receiving the answer to the arrival, ms, sorted. */
  fromAnswer: number[];
  cpu: CpuShare;
}

/** All the streams reconnecting at once (as after an instance's drain), each catching up. */
interface Storm {
  /** Streams refused (an answer other than a stream) or dropped while catching up. */
  refused: number;
  dropped: number;
  /** From opening them all to each stream's catch-up reaching the last write, ms, sorted. */
  caughtUpMs: number[];
  /** A write through the instance in the middle of the storm: its status and time. */
  writeStatus: string;
  writeMs: number;
}

interface Round {
  single: Fanout;
  many: Fanout;
  storm: Storm;
  openSeconds: number;
  rssIdle: Rss;
  /** With half the streams open: the second half's growth is the marginal cost of a stream. */
  rssHalf: Rss;
  rssStreams: Rss;
}

/**
 * `./syncstack bench live`: 1,000 live streams (`GET /v1/changes`, server-sent events) on one
 * sync instance running as its own process, held by raw node:http in this process: the time
 * from a write's commit to its arrival at every stream, next to one stream alone in the same
 * round, and the instance's RSS per idle stream.
 */
export async function benchLive(env: BenchEnv): Promise<string> {
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  await provisionTopology(pubsub, [realtimeUpdates], { serviceUrls: {}, nativePolicies: false });
  const directory = mkdtempSync(join(tmpdir(), "bench-live-"));
  // A shared-read collection: every reader's stream gets every write (the fan-out).
  const rulesFile = join(directory, "access-rules.json");
  writeFileSync(
    rulesFile,
    JSON.stringify({ collections: { [collection]: { policy: "shared-read" } } }),
  );
  const writerToken = emulatorIdToken(projectId, writerUid);
  const readerTokens = Array.from({ length: streamCount }, (_, n) =>
    emulatorIdToken(projectId, readerUid(n)),
  );
  const rounds: Round[] = [];
  try {
    for (let round = 0; round < benchRounds; round++) {
      await resetFirestore(projectId, env.firestore);
      rounds.push(await measureRound(env, rulesFile, writerToken, readerTokens, round));
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
    await pubsub.close();
  }
  return report(rounds);
}

async function measureRound(
  env: BenchEnv,
  rulesFile: string,
  writerToken: string,
  readerTokens: readonly string[],
  round: number,
): Promise<Round> {
  // A fresh instance each round, so its RSS before the streams is not what earlier ones left;
  // its inspector lets the benchmark run a full collection before reading the RSS again.
  const inspectPort = await freePort();
  const service = await startBenchService(
    "sync",
    {
      GOOGLE_CLOUD_PROJECT: projectId,
      PUBSUB_EMULATOR_HOST: env.pubsub,
      FIRESTORE_EMULATOR_HOST: env.firestore,
      ACCESS_RULES_FILE: rulesFile,
      STREAM_MAX_CONNECTIONS: String(streamCount + 10),
      // The instance's default unless given, e.g. 100000 to see the storm without the cap.
      // 0: no listener outlives its last stream, so streams reopened catch up with reads.
      ...(process.env.BENCH_LIVE_LINGER_MS
        ? { STREAM_LISTENER_LINGER_MS: process.env.BENCH_LIVE_LINGER_MS }
        : {}),
      ...(process.env.BENCH_LIVE_MAX_CATCHUPS
        ? { STREAM_MAX_CATCHUPS: process.env.BENCH_LIVE_MAX_CATCHUPS }
        : {}),
      // No stream may end mid-round.
      STREAM_MAX_LIFETIME_MS: String(3_600_000),
    },
    { nodeArgs: [`--inspect=127.0.0.1:${inspectPort}`] },
  );
  const port = Number(new URL(service.url).port);
  const writer = keepAliveAgent();
  const streamsAgent = new Agent({ keepAlive: false, maxSockets: streamCount + 10 });
  const groups = { ...env.pids, service: service.process.pid };
  let sequence = 0;
  /** A write through POST /v1/sync; returns when the writer got the answer (epoch ms). */
  const write = async (document: string): Promise<number> => {
    const { status } = await requestJson(writer, port, {
      method: "POST",
      path: "/v1/sync",
      token: writerToken,
      body: { collection, document, data: { n: sequence++, body: "x".repeat(200) } },
    });
    if (status !== 200) throw new Error(`POST /v1/sync ${document}: status ${status}`);
    return epochMs();
  };
  const held: HeldStream[] = [];
  const closeAll = () => {
    for (const stream of held.splice(0)) stream.request.destroy();
  };
  /** Writes `writeCount` documents `gapMs` apart and times their arrival at every stream held. */
  const fanout = async (label: string): Promise<Fanout> => {
    const cpu = meterCpu(groups);
    const answered = new Map<string, number>();
    for (let i = 0; i < writeCount; i++) {
      const document = `r${round}-${label}-${i}`;
      answered.set(document, await write(document));
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    await until(`every ${label} write on every stream`, () =>
      held.every((stream) => [...answered.keys()].every((id) => stream.arrivals.has(id))),
    );
    const share = cpu(writeCount);
    const fromStored: number[] = [];
    const fromAnswer: number[] = [];
    for (const stream of held) {
      if (stream.ended) throw new Error(`a stream ended: ${stream.ended}`);
      for (const [document, answerAt] of answered) {
        const arrival = stream.arrivals.get(document);
        if (!arrival) continue;
        fromStored.push(arrival.at - arrival.updatedAt);
        fromAnswer.push(arrival.at - answerAt);
      }
    }
    fromStored.sort((a, b) => a - b);
    fromAnswer.sort((a, b) => a - b);
    return { streams: held.length, fromStored, fromAnswer, cpu: share };
  };
  let since: string | undefined;
  /**
   * Opens `count` streams after the last cursor seen, `openConcurrency` at a time, each group
   * once the one before has caught up (received a write made before it opened): all at once,
   * their catch-up queries swamp the emulator (at 1,000, most passed their 5 s deadline and
   * the streams dropped).
   */
  const openStreams = async (count: number, label: string) => {
    const seed = `r${round}-${label}-seed`;
    await write(seed);
    const first = held.length;
    for (let i = first; i < first + count; i += openConcurrency) {
      const tokens = readerTokens.slice(i, Math.min(first + count, i + openConcurrency));
      const group = await Promise.all(
        tokens.map((token) => openStream(streamsAgent, port, token, since)),
      );
      held.push(...group);
      await until(`${label}: streams ${i + 1}-${i + group.length} caught up`, () => {
        const ended = group.find((stream) => stream.ended);
        if (ended) throw new Error(`${label}: a stream ended while catching up: ${ended.ended}`);
        return group.every((stream) => stream.arrivals.has(seed));
      });
    }
    const ready = `r${round}-${label}-ready`;
    await write(ready);
    await until(`${label}: every stream live`, () =>
      held.every((stream) => stream.arrivals.has(ready)),
    );
  };
  /**
   * Closes every stream and opens them all again at once after the last cursor, as clients
   * come back from a drained instance: each catches up `stormWrites` made meanwhile, the instance
   * running at most STREAM_MAX_CATCHUPS catch-ups at a time.
   */
  const reconnectStorm = async (): Promise<Storm> => {
    since = held[0]?.lastId;
    closeAll();
    // What clients miss while they are away; the last one is what each must reach.
    for (let i = 1; i < stormWrites; i++) await write(`r${round}-storm-missed-${i}`);
    const seed = `r${round}-storm-seed`;
    await write(seed);
    const started = performance.now();
    const opening = readerTokens.map((token) => openStream(streamsAgent, port, token, since));
    const writing = performance.now();
    const during = write(`r${round}-storm-during`).then(
      () => ({ status: "200", ms: performance.now() - writing }),
      (error: Error) => ({ status: error.message, ms: performance.now() - writing }),
    );
    const opened = await Promise.allSettled(opening);
    for (const result of opened) if (result.status === "fulfilled") held.push(result.value);
    await until(
      "storm: every stream caught up or dropped",
      () => held.every((stream) => stream.ended || stream.arrivals.has(seed)),
      120_000,
    );
    const { status, ms } = await during;
    const caughtUpMs = held
      .map((stream) => stream.arrivals.get(seed)?.at)
      .filter((at): at is number => at !== undefined)
      .map((at) => at - (performance.timeOrigin + started))
      .sort((a, b) => a - b);
    return {
      refused: opened.filter((result) => result.status === "rejected").length,
      dropped: held.filter((stream) => stream.ended && !stream.arrivals.has(seed)).length,
      caughtUpMs,
      writeStatus: status,
      writeMs: ms,
    };
  };
  try {
    // Warm-up, not timed: the instance's first writes and its first stream's listener.
    await openStreams(1, "warm-up");
    await fanout("warm-up");
    since = held[0]?.lastId;
    closeAll();

    await openStreams(1, "single");
    const single = await fanout("single");
    since = held[0]?.lastId;
    closeAll();

    // Every settled figure then starts from a collection, as the later ones do.
    await collectGarbage(inspectPort);
    const rssIdle = await measureRss(service.process.pid, inspectPort);
    await writeSnapshot(inspectPort, `round${round + 1}-none`, writer);
    const opening = performance.now();
    const half = Math.floor(streamCount / 2);
    const sampling = allocationsDir ? await sampleAllocations(inspectPort) : undefined;
    await openStreams(half, "half");
    if (sampling && allocationsDir) {
      mkdirSync(allocationsDir, { recursive: true });
      const file = join(allocationsDir, `round${round + 1}-open-${half}.heapprofile`);
      writeFileSync(file, await sampling());
    }
    const openHalfSeconds = (performance.now() - opening) / 1_000;
    const rssHalf = await measureRss(service.process.pid, inspectPort);
    since = held[0]?.lastId;
    const reopening = performance.now();
    await openStreams(streamCount - half, "many");
    const openSeconds = openHalfSeconds + (performance.now() - reopening) / 1_000;
    const rssStreams = await measureRss(service.process.pid, inspectPort);
    await writeSnapshot(inspectPort, `round${round + 1}-${streamCount}`, writer);
    const many = await fanout("many");
    const storm = await reconnectStorm();
    return { single, many, storm, openSeconds, rssIdle, rssHalf, rssStreams };
  } finally {
    closeAll();
    writer.destroy();
    streamsAgent.destroy();
    await service.process.stop(10_000);
  }
}

async function writeSnapshot(inspectPort: number, name: string, writer: Agent): Promise<void> {
  if (!snapshotDir) return;
  mkdirSync(snapshotDir, { recursive: true });
  writeFileSync(join(snapshotDir, `${name}.heapsnapshot`), await heapSnapshot(inspectPort));
  // The instance stood still for seconds: its keep-alive sockets may be closing as reused.
  writer.destroy();
}

function report(rounds: readonly Round[]): string {
  const ms = (sorted: readonly number[], fraction: number) => fmt(percentile(sorted, fraction));
  const half = Math.floor(streamCount / 2);
  const moments: Moment[] = ["opened", "idle", "afterGc"];
  const perStream = (round: Round, moment: Moment) =>
    (round.rssStreams[moment].kib - round.rssIdle[moment].kib) / streamCount;
  const marginal = (round: Round, moment: Moment) =>
    (round.rssStreams[moment].kib - round.rssHalf[moment].kib) / (streamCount - half);
  const mib = (rss: Rss) => moments.map((moment) => fmt(rss[moment].kib / 1_024)).join(" / ");
  const each = (value: (moment: Moment) => number) =>
    moments.map((moment) => fmt(value(moment))).join(" / ");
  const lines = [
    `live benchmark: ${streamCount.toLocaleString("en-US")} live streams of GET /v1/changes (text/event-stream) on one sync instance (its own process, a shared-read collection, each stream its own user) held with raw node:http by the benchmark; per round a fresh instance, ${writeCount} writes through POST /v1/sync ${gapMs} ms apart, each timed at every stream, first with one stream alone (the baseline), then with all of them; ${rounds.length} rounds`,
    "",
    "| round | streams | from stored updated_at p50 / p99 ms | from the writer's answer p50 / p99 ms | p99 vs one stream | CPU ms per write |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
  ];
  rounds.forEach((round, index) => {
    for (const fanout of [round.single, round.many]) {
      const ratio = percentile(fanout.fromStored, 0.99) / percentile(round.single.fromStored, 0.99);
      lines.push(
        `| ${index + 1} | ${fanout.streams} | ${ms(fanout.fromStored, 0.5)} / ${ms(fanout.fromStored, 0.99)} | ${ms(fanout.fromAnswer, 0.5)} / ${ms(fanout.fromAnswer, 0.99)} | ${ratio.toFixed(2)} | ${formatCpu(fanout.cpu)} |`,
      );
    }
  });
  lines.push(
    "",
    "RSS of the sync process 2 s after the streams opened / once the runtime had settled by itself (V8's memory reducer; no forced collection) / after a full garbage collection (through its inspector):",
    "",
    `| round | open all streams s | settled after s (none, ${half}, ${streamCount}) | none MiB | ${half} streams MiB | ${streamCount} MiB | KiB per idle stream (${streamCount} vs none) | KiB per stream, the second ${streamCount - half} |`,
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  rounds.forEach((round, index) => {
    const settled = [round.rssIdle, round.rssHalf, round.rssStreams]
      .map((rss) => rss.idleAfterS.toFixed(0))
      .join(", ");
    lines.push(
      `| ${index + 1} | ${round.openSeconds.toFixed(1)} | ${settled} | ${mib(round.rssIdle)} | ${mib(round.rssHalf)} | ${mib(round.rssStreams)} | ${each((moment) => perStream(round, moment))} | ${each((moment) => marginal(round, moment))} |`,
    );
  });
  /** What each idle stream adds (1,000 vs none), KiB: of V8's heap, and of the rest of the RSS. */
  const split = (round: Round, moment: Moment) => {
    const none = round.rssIdle[moment];
    const all = round.rssStreams[moment];
    const delta = (key: keyof HeapBreakdown) => (all.heap[key] - none.heap[key]) / streamCount;
    const native =
      (all.kib - all.heap.heapCommittedKiB - (none.kib - none.heap.heapCommittedKiB)) / streamCount;
    return `${fmt(delta("heapUsedKiB"))} / ${fmt(delta("heapCommittedKiB"))} / ${fmt(delta("youngCommittedKiB"))} / ${fmt(native)}`;
  };
  lines.push(
    "",
    `Where each idle stream's RSS is (${streamCount} vs none, KiB per stream): V8 heap used / heap committed / of which the young generation / the rest of the RSS (native: sockets, parsers, malloc):`,
    "",
    "| round | 2 s after opening | settled by itself | after a full collection |",
    "| --- | ---: | ---: | ---: |",
  );
  rounds.forEach((round, index) => {
    lines.push(`| ${index + 1} | ${moments.map((moment) => split(round, moment)).join(" | ")} |`);
  });
  lines.push(
    "",
    `Reconnect storm: the ${streamCount} streams closed and opened again all at once after the last cursor, each catching up the ${stormWrites} writes made meanwhile (STREAM_MAX_CATCHUPS ${process.env.BENCH_LIVE_MAX_CATCHUPS ?? "default"}, STREAM_LISTENER_LINGER_MS ${process.env.BENCH_LIVE_LINGER_MS ?? "default"}), and a write through the instance during it:`,
    "",
    "| round | refused | dropped while catching up | caught up p50 / p99 / last ms | the write during it |",
    "| --- | ---: | ---: | ---: | --- |",
  );
  rounds.forEach((round, index) => {
    const { storm } = round;
    lines.push(
      `| ${index + 1} | ${storm.refused} | ${storm.dropped} | ${ms(storm.caughtUpMs, 0.5)} / ${ms(storm.caughtUpMs, 0.99)} / ${fmt(storm.caughtUpMs.at(-1) ?? Number.NaN)} | ${storm.writeStatus} in ${fmt(storm.writeMs)} ms |`,
    );
  });
  const range = (values: number[]) => `${fmt(Math.min(...values))}-${fmt(Math.max(...values))}`;
  const p99s = rounds.map((round) => percentile(round.many.fromStored, 0.99));
  const kib = (moment: Moment) => range(rounds.map((round) => perStream(round, moment)));
  lines.push(
    "",
    `with ${streamCount.toLocaleString("en-US")} streams: p99 from the stored updated_at ${range(p99s)} ms (target < ${targets.p99Ms}), KiB per idle stream ${kib("opened")} 2 s after opening, ${kib("idle")} once the runtime had settled by itself, ${kib("afterGc")} after a full collection (target < ${targets.kibPerStream})`,
  );
  return lines.join("\n");
}
