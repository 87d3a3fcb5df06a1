import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Bucket } from "@google-cloud/storage";
import { defaultBucketNames } from "@syncstack/shared";
import { resetFirestore, testProjectId } from "@syncstack/shared/testing";
import { exportCollection } from "./export-collection.ts";
import { depsOf, startBackup } from "./testing/backup-fixture.ts";

const projectId = testProjectId();
const backup = await startBackup(projectId);
const ctx = backup.context;
const deps = depsOf(ctx);
const bucket = ctx.storage.bucket(defaultBucketNames(projectId).backups);
// A full GC on demand, so what is measured is the live heap and never garbage.
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

before(async () => {
  await resetFirestore(projectId);
  await ctx.storage.createBucket(bucket.name).catch(() => undefined);
});
after(async () => {
  await deps.exportDb.terminate();
  await backup.close();
});

async function seed(collection: string, count: number, bytes: number): Promise<void> {
  const writer = ctx.firestore.bulkWriter({ throttling: false });
  for (let n = 0; n < count; n++) {
    const body = randomBytes(bytes / 2).toString("hex");
    void writer.set(ctx.firestore.doc(`${collection}/d${String(n).padStart(5, "0")}`), { n, body });
  }
  await writer.close();
}

/** The bucket, calling `onFirstWrite` when the first gzip output reaches an upload. */
function tapped(onFirstWrite: () => void): Bucket {
  return {
    file(name: string) {
      const file = bucket.file(name);
      const createWriteStream: typeof file.createWriteStream = (options) => {
        const upload = file.createWriteStream(options);
        upload.once("pipe", (source) => source.once("data", onFirstWrite));
        return upload;
      };
      return Object.assign(Object.create(file), { createWriteStream });
    },
  } as Bucket;
}

async function exportOf(collection: string, target: Bucket, pageSize: number) {
  const readTime = (await ctx.firestore.doc("marker/m").set({ at: 1 })).writeTime;
  return exportCollection({
    db: deps.exportDb,
    bucket: target,
    collection,
    object: `backups/memory/${collection}.ndjson.gz`,
    readTime,
    pageSize,
    pageDeadlineMs: 30_000,
    signal: new AbortController().signal,
  });
}

test("an export holds a few documents at a time, never a page: the live heap midway stays flat", async () => {
  const count = 2_000;
  const bytes = 8_192;
  await seed("small", 10, bytes);
  await seed("large", count, bytes);
  // Warms up the clients and the code paths so that what stays allocated is not counted.
  await exportOf("small", bucket, count);
  gc();
  const baseline = process.memoryUsage().heapUsed;
  let midway = Number.NaN;
  const exported = await exportOf(
    "large",
    tapped(() => {
      gc();
      midway = process.memoryUsage().heapUsed;
    }),
    count,
  );
  assert.equal(exported.documents, count);
  const grownMiB = (midway - baseline) / 2 ** 20;
  // The whole collection is one page of 16 MiB of text: holding it would be several times that.
  assert.ok(grownMiB < 6, `live heap grew by ${grownMiB.toFixed(1)} MiB midway through the export`);
});
