import { type DocumentData, FieldPath, Firestore, Timestamp } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { defaultBackupPageSize, leasePath, restoreBackup } from "@syncstack/backup";
import { backupRequested, defaultBucketNames, Publisher, realtimeUpdates } from "@syncstack/shared";
import { provisionBuckets, provisionTopology } from "@syncstack/shared/provision";
import { resetFirestore } from "@syncstack/shared/testing";
import { benchRounds, fmt, medianRound, peakRssKiB } from "./measure.ts";
import { startBenchService } from "./service-process.ts";

const projectId = "demo-bench-backup";
const targetProject = "demo-bench-restore";
const sizes = (process.env.BENCH_BACKUP_DOCS ?? "10000,100000").split(",").map(Number);
const collection = "bench_docs";
// ~1 KiB documents: text, numbers, a timestamp, a nested map and an array.
const body = "lorem ipsum dolor sit amet ".repeat(34).slice(0, 900);
const payload = (n: number): DocumentData => ({
  title: `document ${n}`,
  body,
  n,
  score: n / 7,
  updated_at: new Timestamp(1_700_000_000 + n, 123_000),
  meta: { author: `user${n % 100}`, tags: ["bench", "backup"] },
});

interface Phase {
  seconds: number;
  perSecond: number;
}

/**
 * `./syncstack bench backup`: documents per second backing up 10,000 and 100,000 documents of ~1 KiB
 * (the backup service as its own process, request to completed record) next to a raw paged
 * read of the same collection, the service's peak RSS at each size (a fresh process each),
 * and restore next to raw BulkWriter writes of the same documents, all in the same run.
 */
export async function benchBackup(env: {
  pubsub: string;
  firestore: string;
  storage: string;
}): Promise<string> {
  const db = new Firestore({ projectId, host: env.firestore, ssl: false });
  const target = new Firestore({ projectId: targetProject, host: env.firestore, ssl: false });
  const storage = new Storage({ projectId, apiEndpoint: env.storage });
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
  // The restore publishes every restored document's event to the target project's topic.
  const targetPubsub = new PubSub({
    projectId: targetProject,
    apiEndpoint: env.pubsub,
    emulatorMode: true,
  });
  await targetPubsub.createTopic(realtimeUpdates.name).catch((error: { code?: number }) => {
    if (error.code !== 6) throw error;
  });
  const targetPublisher = new Publisher(targetPubsub, { deadlineMs: 60_000 });
  const buckets = defaultBucketNames(projectId);
  await provisionBuckets(storage, projectId, buckets);
  const rows: string[] = [];
  const summary: string[] = [];
  const peaks: number[] = [];
  try {
    for (const size of sizes) {
      await resetFirestore(projectId, env.firestore);
      await resetFirestore(targetProject, env.firestore);
      await seed(db, size);
      const service = await startBenchService("backup", {
        GOOGLE_CLOUD_PROJECT: projectId,
        PUBSUB_EMULATOR_HOST: env.pubsub,
        FIRESTORE_EMULATOR_HOST: env.firestore,
        STORAGE_EMULATOR_HOST: env.storage,
      });
      let records: ReturnType<typeof recordUpdates> | undefined;
      const pairs: Pair[] = [];
      let backupId = "";
      let peakMiB: number;
      try {
        await provisionTopology(pubsub, [backupRequested, realtimeUpdates], {
          serviceUrls: { backup: service.url },
          nativePolicies: false,
        });
        await db.doc("config/backup").set({
          enabled: true,
          collections: [collection],
          storage_bucket: buckets.backups,
          retention_days: 30,
        });
        const updates = recordUpdates(db);
        records = updates;
        const backUp = async () => {
          await publisher.publish(backupRequested, {
            requested_at: new Date().toISOString(),
            type: "manual",
          });
          backupId = await updates.completed();
        };
        // A warm-up pair first, not counted: the first query of a shape is slow on the
        // emulator's JVM, and a fresh process runs its first export unoptimised.
        for (let round = -1; round < benchRounds; round++) {
          const read = await timed(size, () => rawRead(db, size));
          const backup = await timed(size, backUp);
          // The request ends (lease released) a little after the record completes.
          await leaseReleased(db);
          if (round >= 0) pairs.push({ read, backup });
        }
        peakMiB = peakRssKiB(service.process.pid) / 1_024;
      } finally {
        records?.close();
        await service.process.stop();
      }
      const {
        median: { read, backup },
        ratio,
        all,
      } = medianRound(pairs, ratioOf);
      peaks.push(peakMiB);
      // Restore's baseline runs just before it, both on a warm emulator, into an empty project.
      const write = await timed(size, () => seed(target, size));
      await resetFirestore(targetProject, env.firestore);
      const restore = await timed(size, async () => {
        const report = await restoreBackup({
          sourceDb: db,
          targetDb: target,
          storage,
          backupId,
          publisher: targetPublisher,
          throttle: false,
          deadlineMs: 10_000,
        });
        if (report.documents !== size) throw new Error(`restored ${report.documents} of ${size}`);
      });
      const label = size.toLocaleString("en-US");
      rows.push(
        `| ${label} | raw paged read (${pageSize.toLocaleString("en-US")} a page) | ${fmt(read.perSecond)} | 1.00 | - |`,
        `| ${label} | backup (request -> completed record) | ${fmt(backup.perSecond)} | ${benchRounds > 1 ? `${ratio.toFixed(2)} (${all})` : ratio.toFixed(2)} | ${fmt(peakMiB)} |`,
        `| ${label} | raw BulkWriter set(), throttling off | ${fmt(write.perSecond)} | 1.00 | - |`,
        `| ${label} | restore (verify + getAll + commits with their outbox entry + events) | ${fmt(restore.perSecond)} | ${(restore.perSecond / write.perSecond).toFixed(2)} | - |`,
      );
      summary.push(
        `${label}: backup / raw read ${ratio.toFixed(2)} (target >= 0.70), restore / raw BulkWriter ${(restore.perSecond / write.perSecond).toFixed(2)} (target >= 0.70)`,
      );
    }
    const growth = (peaks.at(-1) ?? 0) - (peaks[0] ?? 0);
    return [
      `backup benchmark: documents of ~1 KiB in one collection; per size a warm-up pair, then ${benchRounds} paired rounds of raw read and backup, the median pair reported (all rounds' ratios in brackets)`,
      "",
      "| documents | phase | documents/s | vs baseline | backup service peak RSS MiB |",
      "| ---: | --- | ---: | ---: | ---: |",
      ...rows,
      "",
      ...summary,
      `backup service peak RSS growth from ${sizes[0]?.toLocaleString("en-US")} to ${sizes.at(-1)?.toLocaleString("en-US")} documents: ${fmt(growth)} MiB (target < 50)`,
    ].join("\n");
  } finally {
    await publisher.close();
    await pubsub.close();
    await targetPublisher.close();
    await targetPubsub.close();
    await Promise.all([db.terminate(), target.terminate()]);
  }
}

/** One round: the raw read and the backup of the same collection, back to back. */
interface Pair {
  read: Phase;
  backup: Phase;
}

const ratioOf = (pair: Pair) => pair.backup.perSecond / pair.read.perSecond;

/** Waits until no backup holds the lease, so the next request is not skipped. */
async function leaseReleased(db: Firestore): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (!(await db.doc(leasePath).get()).exists) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("the backup lease was not released");
}

async function seed(db: Firestore, size: number): Promise<void> {
  const writer = db.bulkWriter({ throttling: false });
  for (let n = 0; n < size; n++) {
    void writer.set(db.collection(collection).doc(`d${String(n).padStart(7, "0")}`), payload(n));
  }
  await writer.close();
}

/** The service's page size: the baseline pages the same way. */
const pageSize = Number(process.env.BACKUP_PAGE_SIZE ?? defaultBackupPageSize);

/** The baseline: a plain paged read of the whole collection, as fast as the client goes. */
async function rawRead(db: Firestore, size: number): Promise<void> {
  let query = db.collection(collection).orderBy(FieldPath.documentId()).limit(pageSize);
  let total = 0;
  for (;;) {
    const page = await query.get();
    total += page.size;
    const last = page.docs.at(-1);
    if (page.size < pageSize || !last) break;
    query = query.startAfter(last);
  }
  if (total !== size) throw new Error(`raw read found ${total} of ${size}`);
}

/**
 * Resolves with the id of the next backup record to complete (throws when one failed or was
 * skipped), told by a listener on the records: it notices the commit itself, where an event
 * would add a Pub/Sub hop, and polling would run queries on the emulator beside the export's.
 */
function recordUpdates(db: Firestore) {
  const ended = new Set<string>();
  const outcomes: { id: string; status: unknown; reason: unknown }[] = [];
  let notify: (() => void) | undefined;
  let failure: Error | undefined;
  const unsubscribe = db.collection("backups").onSnapshot(
    (snapshot) => {
      for (const change of snapshot.docChanges()) {
        const { id } = change.doc;
        const status = change.doc.get("status");
        if (status === "in_progress" || ended.has(id)) continue;
        ended.add(id);
        outcomes.push({ id, status, reason: change.doc.get("reason") });
      }
      notify?.();
    },
    (error) => {
      failure = error;
      notify?.();
    },
  );
  return {
    async completed(): Promise<string> {
      for (;;) {
        if (failure) throw failure;
        const outcome = outcomes.shift();
        if (!outcome) {
          await new Promise<void>((resolve) => (notify = resolve));
          continue;
        }
        if (outcome.status === "completed") return outcome.id;
        throw new Error(`backup ${outcome.id} ${outcome.status}: ${outcome.reason}`);
      }
    },
    close: unsubscribe,
  };
}

async function timed(size: number, run: () => Promise<void>): Promise<Phase> {
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1_000;
  return { seconds, perSecond: size / seconds };
}
