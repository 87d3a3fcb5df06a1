import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Bucket, File } from "@google-cloud/storage";
import {
  bucketName,
  checksumsOf,
  noise,
  startTestEmulator,
  type TestEmulator,
} from "./testing/index.ts";

let env: TestEmulator;
let bucket: Bucket;
const bytes = Buffer.concat([...noise(3 * 1024 * 1024 + 5, 42)]);
before(async () => {
  env = await startTestEmulator();
  [bucket] = await env.storage.createBucket(bucketName());
  await bucket.file("noise.bin").save(bytes);
});
after(() => env.stop());

/** Reads a file with the client, keeping the response headers it validated against. */
async function read(file: File, options: Parameters<File["createReadStream"]>[0] = {}) {
  const chunks: Buffer[] = [];
  let headers: IncomingMessage["headers"] = {};
  const stream = file.createReadStream(options);
  stream.on("response", (response: { headers: IncomingMessage["headers"] }) => {
    headers = response.headers;
  });
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return { body: Buffer.concat(chunks), headers };
}

describe("downloads", () => {
  test("carry x-goog-hash, and the client's crc32c and md5 validation passes", async () => {
    const expected = checksumsOf([bytes]);
    const { body, headers } = await read(bucket.file("noise.bin"), { validation: "crc32c" });
    assert.deepEqual(body, bytes);
    // The client validates only when the stored encoding says the bytes arrive as stored.
    assert.equal(headers["x-goog-stored-content-encoding"], "identity");
    assert.equal(headers["x-goog-hash"], `crc32c=${expected.crc32c},md5=${expected.md5Hash}`);
    const [viaMd5] = await bucket.file("noise.bin").download({ validation: "md5" });
    assert.deepEqual(viaMd5, bytes);
    const [viaCrc] = await bucket.file("noise.bin").download({ validation: "crc32c" });
    assert.deepEqual(viaCrc, bytes);
  });

  test("serve byte ranges: start and end, open end, and the tail", async () => {
    const file = bucket.file("noise.bin");
    const middle = await read(file, { start: 1000, end: 1999 });
    assert.deepEqual(middle.body, bytes.subarray(1000, 2000));
    assert.equal(middle.headers["content-range"], `bytes 1000-1999/${bytes.length}`);
    const [rest] = await file.download({ start: bytes.length - 10 });
    assert.deepEqual(rest, bytes.subarray(bytes.length - 10));
    const [tail] = await file.download({ end: -7 });
    assert.deepEqual(tail, bytes.subarray(bytes.length - 7));
    const [first] = await file.download({ start: 0, end: 0 });
    assert.deepEqual(first, bytes.subarray(0, 1));
  });

  test("a range past the end is a 416", async () => {
    await assert.rejects(bucket.file("noise.bin").download({ start: bytes.length + 1 }), {
      code: 416,
    });
  });

  test("a specific generation downloads while it is live, then 404s", async () => {
    const file = bucket.file("versions.txt");
    await file.save("one");
    const [metadata] = await file.getMetadata();
    const pinned = bucket.file("versions.txt", { generation: metadata.generation });
    const [bytes] = await pinned.download();
    assert.equal(bytes.toString(), "one");
    await file.save("two");
    await assert.rejects(pinned.download(), { code: 404 });
  });

  test("to a file on disk", async () => {
    const dir = await mkdtemp(join(tmpdir(), "storage-download-"));
    try {
      const destination = join(dir, "noise.bin");
      await bucket.file("noise.bin").download({ destination });
      assert.deepEqual(await readFile(destination), bytes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
