import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Firestore, Timestamp } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { repoRoot } from "@syncstack/local-stack";
import { Publisher, statsTick } from "@syncstack/shared";
import { benchEvents } from "./analytics-events.ts";
import { type BenchEnv, projectId, resetDatabase, startAnalytics } from "./analytics-process.ts";
import { fmt, peakRssKiB } from "./measure.ts";

const sizes = (process.env.BENCH_SIZES ?? "10000,100000").split(",").map(Number);

/**
 * `./syncstack bench analytics`: one stats-tick of the analytics service over 10,000 and 100,000
 * user_stats documents next to streaming every document and summing in memory, each in its
 * own process for its peak RSS; then events applied to user_stats per second next to raw
 * transactions, in the same run.
 */
export async function benchAnalytics(env: BenchEnv): Promise<string> {
  const db = new Firestore({ projectId, host: env.firestore, ssl: false });
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  const publisher = new Publisher(pubsub, { deadlineMs: 30_000 });
  const rows: string[] = [];
  let speedup = Number.NaN;
  const started = performance.now();
  try {
    for (const size of sizes) {
      await resetDatabase(env.firestore);
      await seedUsers(db, size);
      const service = await startAnalytics(env, pubsub, "INFO");
      const tick: number[] = [];
      const naive: Awaited<ReturnType<typeof runNaive>>[] = [];
      let idleKiB = 0;
      let tickKiB = 0;
      let same = true;
      try {
        idleKiB = peakRssKiB(service.process.pid);
        // Twice each, alternating, the faster run counted: the first query after seeding
        // pays for the emulator's garbage collection, whichever method goes first.
        for (let round = 0; round < 2; round++) {
          const tickAt = new Date(Date.now() + round * 60_000);
          const written = service.logged("stats tick written");
          await publisher.publish(statsTick, { tick_at: tickAt.toISOString() });
          tick.push(Number((await written).durationMs));
          tickKiB = peakRssKiB(service.process.pid);
          const streamed = await runNaive(env, tickAt);
          naive.push(streamed);
          const daily = (await db.doc("analytics/daily_stats").get()).data() ?? {};
          same &&= Object.entries(streamed.figures).every(([key, value]) => daily[key] === value);
        }
      } finally {
        await service.process.stop(10_000);
      }
      // The least any aggregation costs here: the emulator scans every document per query.
      const counted = performance.now();
      await db.collection("user_stats").count().get();
      const countMs = performance.now() - counted;
      const tickMs = Math.min(...tick);
      const naiveMs = Math.min(...naive.map((run) => run.ms));
      const naiveKiB = Math.max(...naive.map((run) => run.maxRssKiB));
      const naiveStartKiB = Math.min(...naive.map((run) => run.startRssKiB));
      speedup = naiveMs / tickMs;
      rows.push(
        `| stats-tick (aggregation queries) | ${fmt(size)} | ${fmt(tickMs)} | ${mib(tickKiB)} | ${mib(tickKiB - idleKiB)} | ${speedup.toFixed(1)}x |`,
        `| one count() alone, for scale | ${fmt(size)} | ${fmt(countMs)} | - | - | ${(naiveMs / countMs).toFixed(1)}x |`,
        `| stream every document, sum in memory | ${fmt(size)} | ${fmt(naiveMs)} | ${mib(naiveKiB)} | ${mib(naiveKiB - naiveStartKiB)} | 1.0x${same ? "" : " (figures differ!)"} |`,
      );
    }
    await resetDatabase(env.firestore);
    const events = await benchEvents(
      env,
      db,
      publisher,
      await startAnalytics(env, pubsub, "WARNING"),
    );
    return [
      `analytics benchmark (${fmt((performance.now() - started) / 1_000)} s): one stats-tick vs streaming, each in its own process, best of 2`,
      "",
      "| method | user_stats docs | ms | peak RSS MiB | RSS growth MiB | speed |",
      "| --- | ---: | ---: | ---: | ---: | ---: |",
      ...rows,
      "",
      `stats-tick vs streaming at ${fmt(sizes.at(-1) ?? 0)} documents: ${speedup.toFixed(1)}x faster (target >= 5x)`,
      "",
      events,
    ].join("\n");
  } finally {
    await publisher.flush();
    await pubsub.close();
    await db.terminate();
  }
}

/** Writes `count` user_stats records, active over the last two days. */
async function seedUsers(db: Firestore, count: number): Promise<void> {
  const writer = db.bulkWriter({ throttling: false });
  const now = Date.now();
  for (let n = 0; n < count; n++) {
    void writer.set(db.collection("user_stats").doc(`user-${n}`), {
      documents_created: n % 50,
      collaborations: n % 3,
      last_activity: Timestamp.fromMillis(now - ((n * 7_919) % 48) * 3_600_000),
    });
    if (n % 10_000 === 9_999) await writer.flush();
  }
  await writer.close();
}

async function runNaive(env: BenchEnv, tickAt: Date) {
  const child = spawn(
    process.execPath,
    ["--conditions=source", join(repoRoot, "tools/bench/src/analytics-naive.ts")],
    {
      env: {
        ...process.env,
        GOOGLE_CLOUD_PROJECT: projectId,
        FIRESTORE_EMULATOR_HOST: env.firestore,
        METADATA_SERVER_DETECTION: "none",
        TICK_AT: tickAt.toISOString(),
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`the naive tick exited with ${code}`);
  return JSON.parse(output) as {
    ms: number;
    figures: Record<string, number>;
    startRssKiB: number;
    maxRssKiB: number;
  };
}

const mib = (kib: number) => fmt(kib / 1_024);
