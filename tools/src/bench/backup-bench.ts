import { type DocumentData, FieldPath, Firestore, Timestamp } from "@google-cloud/firestore";
import { type Message, PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import {
  backupRequested,
  defaultBucketNames,
  Publisher,
  provisionBuckets,
  provisionTopology,
  type RealtimeUpdate,
  realtimeUpdates,
} from "@syncstack/shared";
import { resetFirestore } from "@syncstack/shared/testing";
import { defaultBackupPageSize } from "../../../services/backup/src/config.ts";
import { restoreBackup } from "../../../services/backup/src/restore.ts";
import { fmt, peakRssKiB } from "./measure.ts";
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
 * `pnpm bench backup`: documents per second backing up 10,000 and 100,000 documents of ~1 KiB
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
  const buckets = defaultBucketNames(projectId);
  await provisionBuckets(storage, projectId, buckets);
  const rows: string[] = [];
  const summary: string[] = [];
  const peaks: number[] = [];
  try {
    for (const size of sizes) {
      await resetFirestore(projectId, env.firestore);
      await resetFirestore(targetProject, env.firestore);
      const write = await timed(size, () => seed(target, size));
      await seed(db, size);
      await resetFirestore(targetProject, env.firestore);
      const read = await timed(size, () => rawRead(db, size));
      const service = await startBenchService("backup", {
        GOOGLE_CLOUD_PROJECT: projectId,
        PUBSUB_EMULATOR_HOST: env.pubsub,
        FIRESTORE_EMULATOR_HOST: env.firestore,
        STORAGE_EMULATOR_HOST: env.storage,
      });
      let backupId = "";
      let records: Awaited<ReturnType<typeof recordUpdates>> | undefined;
      let backup: Phase;
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
        const updates = await recordUpdates(pubsub, db, `bench-backup-records-${size}`);
        records = updates;
        // The baseline's client is warm; so is the service: its channels open before timing.
        const ready = await fetch(`${service.url}/readyz`);
        if (!ready.ok) throw new Error(`backup service not ready: ${await ready.text()}`);
        backup = await timed(size, async () => {
          await publisher.publish(backupRequested, {
            requested_at: new Date().toISOString(),
            type: "manual",
          });
          backupId = await updates.completed();
        });
        peakMiB = peakRssKiB(service.process.pid) / 1_024;
      } finally {
        await records?.close();
        await service.process.stop();
      }
      peaks.push(peakMiB);
      const restore = await timed(size, async () => {
        const report = await restoreBackup({
          sourceDb: db,
          targetDb: target,
          storage,
          backupId,
          throttle: false,
          deadlineMs: 10_000,
        });
        if (report.documents !== size) throw new Error(`restored ${report.documents} of ${size}`);
      });
      const label = size.toLocaleString("en-US");
      rows.push(
        `| ${label} | raw paged read (${pageSize.toLocaleString("en-US")} a page) | ${fmt(read.perSecond)} | 1.00 | - |`,
        `| ${label} | backup (request -> completed record) | ${fmt(backup.perSecond)} | ${(backup.perSecond / read.perSecond).toFixed(2)} | ${fmt(peakMiB)} |`,
        `| ${label} | raw BulkWriter set(), throttling off | ${fmt(write.perSecond)} | 1.00 | - |`,
        `| ${label} | restore (verify + BulkWriter) | ${fmt(restore.perSecond)} | ${(restore.perSecond / write.perSecond).toFixed(2)} | - |`,
      );
      summary.push(
        `${label}: backup / raw read ${(backup.perSecond / read.perSecond).toFixed(2)} (target >= 0.70), restore / raw BulkWriter ${(restore.perSecond / write.perSecond).toFixed(2)} (target >= 0.70)`,
      );
    }
    const growth = (peaks.at(-1) ?? 0) - (peaks[0] ?? 0);
    return [
      `backup benchmark: documents of ~1 KiB in one collection, one run per size`,
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
    await Promise.all([db.terminate(), target.terminate()]);
  }
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
 * Resolves with the id of the backup record once it is completed (throws when it failed). The
 * service publishes an event for every change of the record, so noticing costs nothing:
 * polling would run queries on the emulator beside the export's.
 */
async function recordUpdates(pubsub: PubSub, db: Firestore, name: string) {
  const [subscription] = await pubsub.topic(realtimeUpdates.name).createSubscription(name);
  let updates = 0;
  let notify: (() => void) | undefined;
  subscription.on("message", (message: Message) => {
    message.ack();
    const event = JSON.parse(message.data.toString()) as RealtimeUpdate;
    if (event.collection !== "backups" || event.op !== "update") return;
    updates++;
    notify?.();
  });
  return {
    async completed(): Promise<string> {
      for (let seen = 0; ; seen = updates) {
        if (updates === seen) await new Promise<void>((resolve) => (notify = resolve));
        const found = await db
          .collection("backups")
          .where("status", "in", ["completed", "failed"])
          .get();
        const record = found.docs[0];
        if (record?.get("status") === "failed")
          throw new Error(`backup failed: ${record.get("reason")}`);
        if (record) return record.id;
      }
    },
    close: () => subscription.close(),
  };
}

async function timed(size: number, run: () => Promise<void>): Promise<Phase> {
  const start = performance.now();
  await run();
  const seconds = (performance.now() - start) / 1_000;
  return { seconds, perSecond: size / seconds };
}
