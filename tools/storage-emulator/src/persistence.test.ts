import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, test } from "node:test";
import { bucketName, checksumsOf, noise, startTestEmulator } from "./testing/index.ts";

const MiB = 1024 * 1024;
let dataDir: string;
before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "storage-emulator-"));
});
after(() => rm(dataDir, { recursive: true, force: true }));

/** The blob file holding an object's bytes, from the record the emulator keeps beside it. */
async function blobOf(bucket: string, name: string): Promise<string> {
  const dir = join(dataDir, "objects", bucket);
  for (const file of await readdir(dir)) {
    const record = JSON.parse(await readFile(join(dir, file), "utf8")) as {
      name: string;
      blob: string;
    };
    if (record.name === name) return join(dataDir, "blobs", record.blob);
  }
  throw new Error(`no record for ${bucket}/${name}`);
}

describe("data on disk", () => {
  test("buckets, objects, notification configs and an unfinished upload survive a restart", async () => {
    const name = bucketName("disk");
    const big = [...noise(5 * MiB, 3)];
    const first = await startTestEmulator({ dataDir });
    const port = first.emulator.port;
    let uri = "";
    try {
      const [bucket] = await first.storage.createBucket(name, { labels: { kept: "yes" } });
      await bucket.createNotification("projects/demo-storage-test/topics/later");
      await bucket.file("small.txt").save("small", {
        metadata: { contentType: "text/plain", metadata: { k: "v" } },
      });
      await pipeline(Readable.from(big), bucket.file("big.bin").createWriteStream());
      await bucket.file("gone.txt").save("x");
      await bucket.file("gone.txt").delete();

      [uri] = await bucket.file("later.bin").createResumableUpload();
      const half = bucket.file("later.bin").createWriteStream({
        uri,
        chunkSize: 2 * MiB,
        isPartialUpload: true,
      });
      await pipeline(Readable.from(big.slice(0, 2)), half);
    } finally {
      await first.stop();
    }

    // An orphan blob, as a crash mid-upload leaves one, is cleaned up at start.
    await writeFile(join(dataDir, "blobs", "orphan"), "left behind");
    const second = await startTestEmulator({ dataDir, port });
    try {
      const bucket = second.storage.bucket(name);
      const [metadata] = await bucket.getMetadata();
      assert.deepEqual(metadata.labels, { kept: "yes" });
      const [notifications] = await bucket.getNotifications();
      assert.equal(notifications.length, 1);

      const [files] = await bucket.getFiles();
      assert.deepEqual(
        files.map((f) => f.name),
        ["big.bin", "small.txt"],
      );
      const [small] = await bucket.file("small.txt").download({ validation: "md5" });
      assert.equal(small.toString(), "small");
      const [smallMetadata] = await bucket.file("small.txt").getMetadata();
      assert.equal(smallMetadata.contentType, "text/plain");
      assert.deepEqual(smallMetadata.metadata, { k: "v" });
      const [bigBytes] = await bucket.file("big.bin").download({ validation: "crc32c" });
      assert.deepEqual(checksumsOf([bigBytes]), checksumsOf(big));

      // The session continues where it stopped before the restart.
      const rest = bucket.file("later.bin").createWriteStream({ uri, chunkSize: 2 * MiB });
      await pipeline(Readable.from(big), rest);
      const [later] = await bucket.file("later.bin").download({ validation: "crc32c" });
      assert.deepEqual(checksumsOf([later]), checksumsOf(big));

      assert.ok(!(await readdir(join(dataDir, "blobs"))).includes("orphan"));
    } finally {
      await second.stop();
    }
  });

  test("bytes damaged on disk fail the client's hash validation", async () => {
    const env = await startTestEmulator({ dataDir });
    try {
      const [bucket] = await env.storage.createBucket(bucketName("damaged"));
      const file = bucket.file("fragile.bin");
      await file.save(Buffer.alloc(4096, 1));
      const blob = await blobOf(bucket.name, "fragile.bin");
      await writeFile(blob, Buffer.alloc(4096, 2));
      await assert.rejects(file.download({ validation: "crc32c" }), {
        code: "CONTENT_DOWNLOAD_MISMATCH",
      });
      await assert.rejects(file.download({ validation: "md5" }), {
        code: "CONTENT_DOWNLOAD_MISMATCH",
      });
    } finally {
      await env.stop();
    }
  });

  test("deleting a bucket removes its files", async () => {
    const env = await startTestEmulator({ dataDir });
    try {
      const [bucket] = await env.storage.createBucket(bucketName("removed"));
      await bucket.file("a.txt").save("a");
      const blob = await blobOf(bucket.name, "a.txt");
      await bucket.deleteFiles();
      await bucket.delete();
      const buckets = await readdir(join(dataDir, "buckets"));
      assert.ok(!buckets.includes(`${bucket.name}.json`));
      await assert.rejects(readFile(blob), { code: "ENOENT" });
    } finally {
      await env.stop();
    }
  });
});
