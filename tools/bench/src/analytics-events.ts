import { Agent, request } from "node:http";
import { AggregateField, type Firestore, Timestamp } from "@google-cloud/firestore";
import { type Publisher, type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import {
  type BenchEnv,
  projectId,
  type RunningAnalytics,
  resetDatabase,
} from "./analytics-process.ts";
import { fmt } from "./measure.ts";

const eventCount = Number(process.env.BENCH_EVENTS ?? 3_000);
const userCount = 300;

interface Phase {
  name: string;
  seconds: number;
}

/**
 * Events applied to user_stats per second, redelivery-free: every event a distinct create
 * by one of 300 users. Raw transactions (read the record, write it back incremented; no
 * idempotency) set the baseline at the same concurrency, each worker on its own users so
 * that no two transactions wait on each other's locks. The service's figure runs from the
 * first event to the moment the records sum to the event count: folding included.
 */
export async function benchEvents(
  env: BenchEnv,
  db: Firestore,
  publisher: Publisher,
  service: RunningAnalytics,
): Promise<string> {
  const events = Array.from({ length: eventCount }, (_, n) => event(n));
  const phases: [Phase, Phase][] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    for (const concurrency of [2, 16]) {
      await resetDatabase(env.firestore);
      const raw = await timed(`raw transactions x${concurrency}`, () =>
        inWorkers(concurrency, events, (item) => rawTransaction(db, item)),
      );
      await resetDatabase(env.firestore);
      const applied = await timed(
        concurrency === 2
          ? "analytics via Pub/Sub push (emulator: 2 in flight)"
          : `analytics, push requests x${concurrency}`,
        async () => {
          if (concurrency === 2) {
            await Promise.all(events.map((item) => publisher.publish(realtimeUpdates, item)));
          } else {
            await inWorkers(concurrency, events, (item, n) => pushOne(agent, service.url, item, n));
          }
          await untilApplied(db, events.length);
        },
      );
      phases.push([raw, applied]);
    }
  } finally {
    agent.destroy();
    await service.process.stop(10_000);
  }
  const rows = phases.flatMap(([raw, applied]) => [
    `| ${raw.name} | ${fmt(eventCount / raw.seconds)} | 1.00 |`,
    `| ${applied.name} | ${fmt(eventCount / applied.seconds)} | ${(raw.seconds / applied.seconds).toFixed(2)} |`,
  ]);
  const [lastRaw, last] = phases.at(-1) ?? [];
  return [
    `events applied to user_stats: ${fmt(eventCount)} creates by ${userCount} users, no redelivery`,
    "",
    "| phase | events/s | vs raw transactions |",
    "| --- | ---: | ---: |",
    ...rows,
    "",
    `analytics / raw transactions at 16: ${lastRaw && last ? (lastRaw.seconds / last.seconds).toFixed(2) : "n/a"} (target >= 0.60)`,
  ].join("\n");
}

function event(n: number): RealtimeUpdate {
  return {
    collection: "notes",
    document: `bench-${n}`,
    timestamp: new Date().toISOString(),
    op: "create",
    version: 1,
    source: "bench",
    uid: `user-${n % userCount}`,
  };
}

async function timed(name: string, run: () => Promise<void>): Promise<Phase> {
  const started = performance.now();
  await run();
  return { name, seconds: (performance.now() - started) / 1_000 };
}

/** Runs the events on `concurrency` workers, each owning the users its index selects. */
async function inWorkers(
  concurrency: number,
  events: readonly RealtimeUpdate[],
  apply: (event: RealtimeUpdate, n: number) => Promise<void>,
): Promise<void> {
  const owner = (item: RealtimeUpdate) => Number(item.uid?.slice(5)) % concurrency;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (const [n, item] of events.entries()) if (owner(item) === worker) await apply(item, n);
    }),
  );
}

/** What a consumer without idempotency or coalescing would do: one transaction per event. */
async function rawTransaction(db: Firestore, item: RealtimeUpdate): Promise<void> {
  const ref = db.collection("user_stats").doc(item.uid ?? "");
  const at = Timestamp.fromDate(new Date(item.timestamp));
  await db.runTransaction(async (transaction) => {
    const record = await transaction.get(ref);
    const last = record.get("last_activity") as Timestamp | undefined;
    transaction.set(ref, {
      documents_created: Number(record.get("documents_created") ?? 0) + 1,
      collaborations: Number(record.get("collaborations") ?? 0),
      last_activity: last && last.toMillis() > at.toMillis() ? last : at,
    });
  });
}

/** Polls the sum of documents_created until it reaches `count`. */
async function untilApplied(db: Firestore, count: number): Promise<void> {
  const sum = db.collection("user_stats").aggregate({ n: AggregateField.sum("documents_created") });
  for (;;) {
    if ((await sum.get()).data().n >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** POSTs one push envelope, as Pub/Sub would, over a keep-alive connection. */
function pushOne(agent: Agent, url: string, item: RealtimeUpdate, n: number): Promise<void> {
  const body = JSON.stringify({
    subscription: `projects/${projectId}/subscriptions/analytics-realtime-updates`,
    message: {
      data: Buffer.from(JSON.stringify(item)).toString("base64"),
      attributes: { schema_version: "1" },
      messageId: `bench-${n}`,
      publishTime: new Date().toISOString(),
    },
  });
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: hostname,
        port,
        path: "/pubsub/realtime-updates",
        method: "POST",
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        response.resume();
        response.on("end", () =>
          response.statusCode === 204
            ? resolve()
            : reject(new Error(`status ${response.statusCode}`)),
        );
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
