// The naive stats tick, run as its own process by analytics-bench.ts so that its peak RSS is
// its own: streams every user_stats document and sums in memory. Prints one JSON line.
import { Firestore, type Timestamp } from "@google-cloud/firestore";

const db = new Firestore({
  projectId: process.env.GOOGLE_CLOUD_PROJECT,
  host: process.env.FIRESTORE_EMULATOR_HOST,
  ssl: false,
});
const since = Date.parse(process.env.TICK_AT ?? "") - 24 * 3_600_000;
// A long-running service would have its channel open: open it before the clock starts.
await db.doc("analytics/daily_stats").get();
const startRssKiB = Math.round(process.memoryUsage().rss / 1_024);
const started = performance.now();
const figures = { total_users: 0, total_documents: 0, total_collaborations: 0, active_users: 0 };
for await (const record of db.collection("user_stats").stream()) {
  const data = (record as unknown as { data(): Record<string, unknown> }).data();
  figures.total_users++;
  figures.total_documents += Number(data.documents_created ?? 0);
  figures.total_collaborations += Number(data.collaborations ?? 0);
  const last = (data.last_activity as Timestamp | undefined)?.toMillis() ?? 0;
  if (last >= since) figures.active_users++;
}
const ms = performance.now() - started;
process.stdout.write(
  `${JSON.stringify({ ms, figures, startRssKiB, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
);
await db.terminate();
