// `./syncstack load [minutes]`: sustained mixed load on the whole local stack (syncs from many users,
// batch syncs, uploads, stats ticks), sampled every 10 s: throughput, error rate, p99 latency,
// event lag and each service's memory. Afterwards the outbox must drain, every created
// document must be counted once and every upload recorded; the table goes to stdout.
import { readFileSync } from "node:fs";
import type { Message } from "@google-cloud/pubsub";
import { percentile } from "@syncstack/bench";
import { type RealtimeUpdate, serviceNames, statsTick } from "@syncstack/shared";
import { emulatorIdToken, waitFor } from "@syncstack/shared/testing";
import sharp from "sharp";
import { SyncLoad, startChaosStack } from "./harness.ts";
import { assertNothingLost } from "./invariants.ts";

const usage = `usage: ./syncstack load [minutes]

Starts a stack of its own on free ports and puts it under sustained mixed load for [minutes]
(default $LOAD_MINUTES or 10; $LOAD_CLIENTS sync clients, default 6), then checks that nothing
was lost and prints a table of the samples.
`;
const [given, ...extra] = process.argv.slice(2);
if (given === "--help" || given === "-h") {
  process.stdout.write(usage);
  process.exit(0);
}
const minutes = Number(given ?? process.env.LOAD_MINUTES ?? 10);
if (extra.length > 0 || !(minutes > 0)) {
  process.stderr.write(
    `load: expected a number of minutes, got ${process.argv.slice(2).join(" ")}\n${usage}`,
  );
  process.exit(2);
}
const sampleMs = 10_000;
// Ten minutes of load leave ~100,000 documents and as many idempotency records in the
// emulator's heap (production expires the records with a TTL policy; the emulator does not).
const chaos = await startChaosStack("demo-load", 6_144);
const collection = "notes_load";

const lags: number[] = [];
const [events] = await chaos.pubsub
  .topic("realtime-updates")
  .createSubscription("load-event-lag", { enableMessageOrdering: false });
events.on("message", (message: Message) => {
  const event = JSON.parse(message.data.toString()) as RealtimeUpdate;
  lags.push(Date.now() - Date.parse(event.timestamp));
  message.ack();
});

// As many clients as the emulator's push delivery to analytics (two requests at a time) keeps
// up with: more only grow its backlog, which is not a rate the machine holds.
const clients = Number(process.env.LOAD_CLIENTS ?? 6);
const load = new SyncLoad(chaos, {
  collection,
  clients,
  users: clients,
  userPrefix: "load",
  updatesPerDocument: 2,
}).start();
let running = true;
const batchOutcomes = { ok: 0, failed: 0 };
const batches = (async () => {
  const token = emulatorIdToken(chaos.projectId, "load-batch");
  for (let n = 0; running; n++) {
    const changes = Array.from({ length: 20 }, (_, i) => ({
      collection: "notes_load_batch",
      document: `b${n}-${i}`,
      data: { author: "load-batch", n, i },
    }));
    const response = await fetch(`${chaos.stack.file.services.sync}/v1/sync:batch`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ changes }),
    }).catch(() => undefined);
    batchOutcomes[response?.ok ? "ok" : "failed"]++;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
})();
const uploaded: string[] = [];
const uploads = (async () => {
  const image = await sharp({
    create: { width: 1600, height: 1200, channels: 3, background: "#3a7" },
  })
    .jpeg()
    .toBuffer();
  const bucket = chaos.storage.bucket(chaos.stack.file.buckets.uploads);
  for (let n = 0; running; n++) {
    const name = `load/photo-${n}.jpg`;
    await bucket.file(name).save(image, { resumable: false, contentType: "image/jpeg" });
    uploaded.push(name);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
})();
const ticks = setInterval(() => {
  void chaos.publisher.publish(statsTick, { tick_at: new Date().toISOString() });
}, 30_000);

const rows: string[] = [];
const rssMiB = () =>
  serviceNames.map((name) => {
    const status = readFileSync(`/proc/${chaos.stack.parts[name].pid()}/status`, "utf8");
    return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1_024);
  });
const firstRss = rssMiB();
const end = Date.now() + minutes * 60_000;
let lastAccepted = 0;
let lastFailures = 0;
while (Date.now() < end) {
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const accepted = load.accepted.length - lastAccepted;
  const failures = [...load.failures.values()].reduce((sum, n) => sum + n, 0) - lastFailures;
  lastAccepted += accepted;
  lastFailures += failures;
  const latencies = load.takeLatencies().sort((a, b) => a - b);
  const lag = lags.splice(0).sort((a, b) => a - b);
  rows.push(
    [
      `${Math.round((minutes * 60_000 - (end - Date.now())) / 1_000)}`,
      (accepted / (sampleMs / 1_000)).toFixed(0),
      `${((100 * failures) / Math.max(1, accepted + failures)).toFixed(2)}%`,
      percentile(latencies, 0.99).toFixed(0),
      percentile(lag, 0.99).toFixed(0),
      ...rssMiB(),
    ].join(" | "),
  );
  process.stderr.write(`load: ${rows.at(-1)}\n`);
}
running = false;
clearInterval(ticks);
await Promise.all([load.stop(), batches, uploads]);
const lastRss = rssMiB();

const drainStart = Date.now();
const tally = await assertNothingLost(chaos.db, collection, load.accepted, 600_000);
await assertNothingLost(chaos.db, "notes_load_batch", [], 600_000);
const drainSeconds = (Date.now() - drainStart) / 1_000;
const recorded = await waitFor(
  "every upload recorded",
  async () => {
    const snapshot = await chaos.db.collection("files").where("processed", "==", true).get();
    const names = new Set(snapshot.docs.map((doc) => doc.get("name") as string));
    return uploaded.every((name) => names.has(name)) ? snapshot.size : undefined;
  },
  120_000,
);
await events.close();
await chaos.stop();

process.stdout.write(
  [
    `sustained load: ${minutes} min, ${clients} sync clients, one user each (create + 2 updates a document),`,
    "a 20-change batch every second, a 1600x1200 JPEG upload every 2 s, a stats tick every 30 s",
    "",
    `| s | syncs/s | errors | p99 ms | event lag p99 ms | ${serviceNames.map((n) => `${n} MiB`).join(" | ")} |`,
    `| ---: | ---: | ---: | ---: | ---: | ${serviceNames.map(() => "---:").join(" | ")} |`,
    ...rows.map((row) => `| ${row} |`),
    "",
    `accepted syncs ${tally.accepted} (${tally.documents} documents, each counted once in user_stats);`,
    `batches ok ${batchOutcomes.ok}, failed ${batchOutcomes.failed}; uploads ${uploaded.length}, recorded ${recorded};`,
    `failed attempts (retried by the clients): ${JSON.stringify(Object.fromEntries(load.failures))};`,
    `service RSS MiB first sample -> end: ${serviceNames.map((n, i) => `${n} ${firstRss[i]} -> ${lastRss[i]}`).join(", ")};`,
    `the outbox drained to zero and every event was counted ${drainSeconds.toFixed(0)} s after the load stopped.`,
    "",
  ].join("\n"),
);
process.exit(0);
