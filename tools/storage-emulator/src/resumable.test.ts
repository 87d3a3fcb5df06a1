import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { after, before, describe, test } from "node:test";
import type { Bucket } from "@google-cloud/storage";
import {
  bucketName,
  checksumsOf,
  noise,
  startTestEmulator,
  type TestEmulator,
} from "./testing/index.ts";

const MiB = 1024 * 1024;
const size = 64 * MiB;
const expected = checksumsOf(noise(size, 7));

let env: TestEmulator;
let bucket: Bucket;
before(async () => {
  env = await startTestEmulator();
  [bucket] = await env.storage.createBucket(bucketName());
});
after(() => env.stop());

/** Checks a 64 MiB object byte for byte (by hash) through a validated download. */
async function assertStored(name: string): Promise<void> {
  const file = bucket.file(name);
  const [metadata] = await file.getMetadata();
  assert.equal(metadata.size, String(size));
  assert.deepEqual({ md5Hash: metadata.md5Hash, crc32c: metadata.crc32c }, expected);
  const chunks: Buffer[] = [];
  for await (const chunk of file.createReadStream({ validation: "md5" })) chunks.push(chunk);
  assert.deepEqual(checksumsOf(chunks), expected);
}

/** The Content-Range of every data request the emulator took for an upload session. */
function uploadRanges(uri: string): string[] {
  const id = new URL(uri).searchParams.get("upload_id");
  return env.logs
    .filter((line) => String(line.path).includes(`upload_id=${id}`) && line.method === "PUT")
    .map((line) => `${line.contentRange} -> ${line.status}`);
}

describe("64 MiB resumable uploads", () => {
  test("in one streamed request", async () => {
    const file = bucket.file("one-request.bin");
    await pipeline(Readable.from(noise(size, 7)), file.createWriteStream({ validation: "crc32c" }));
    await assertStored("one-request.bin");
  });

  test("interrupted mid-request, then resumed in 8 MiB chunks with the same session URI", async () => {
    const file = bucket.file("resumed.bin");
    const [uri] = await file.createResumableUpload();
    async function* breaksAt(limit: number) {
      let sent = 0;
      for (const chunk of noise(size, 7)) {
        if (sent >= limit) throw new Error("network went away");
        yield chunk;
        sent += chunk.length;
      }
    }
    const first = file.createWriteStream({ uri });
    await assert.rejects(pipeline(Readable.from(breaksAt(20 * MiB)), first), /network went away/);
    const [exists] = await file.exists();
    assert.equal(exists, false, "a broken upload finalizes nothing");

    // A new stream on the same URI asks how far the session got and sends only the rest; the
    // client hashes the whole stream, so its crc32c check covers both parts.
    const resumed = file.createWriteStream({ uri, chunkSize: 8 * MiB, validation: "crc32c" });
    await pipeline(Readable.from(noise(size, 7)), resumed);
    await assertStored("resumed.bin");

    // Log lines come in the order requests ended; the broken one ends when it is cut off.
    const ranges = uploadRanges(uri);
    const statusQueries = ranges.filter((range) => range.startsWith("bytes */*"));
    assert.deepEqual(statusQueries, ["bytes */* -> 308", "bytes */* -> 308"]);
    const [broken, restart, ...rest] = ranges.filter((range) => !range.startsWith("bytes */*"));
    assert.equal(broken, "bytes 0-*/* -> aborted");
    const offset = Number(/^bytes (\d+)-/.exec(restart ?? "")?.[1]);
    assert.ok(offset > 0 && offset <= 20 * MiB, `resumed at byte ${offset}, after what was kept`);
    assert.ok(rest.slice(0, -1).every((range) => range.endsWith("/* -> 308")));
    assert.match(rest.at(-1) ?? "", new RegExp(`/${size} -> 200$`));
  });

  test("paused with isPartialUpload and finished later from an offset", async () => {
    const file = bucket.file("partial.bin");
    const [uri] = await file.createResumableUpload();
    const all = [...noise(size, 7)];
    const half = 32;
    let crc32c: string | undefined;
    const firstHalf = file.createWriteStream({ uri, chunkSize: 8 * MiB, isPartialUpload: true });
    firstHalf.on("crc32c", (value: string) => {
      crc32c = value;
    });
    await pipeline(Readable.from(all.slice(0, half)), firstHalf);
    assert.ok(crc32c, "the client reports the crc32c of the first half");

    const secondHalf = file.createWriteStream({
      uri,
      chunkSize: 8 * MiB,
      offset: half * MiB,
      resumeCRC32C: crc32c,
    });
    await pipeline(Readable.from(all.slice(half)), secondHalf);
    await assertStored("partial.bin");
  });
});
