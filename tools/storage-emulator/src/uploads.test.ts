import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Bucket, Storage } from "@google-cloud/storage";
import { storageObjectSchema } from "@syncstack/shared";
import { bucketName, checksumsOf, startTestEmulator, type TestEmulator } from "./testing/index.ts";

let env: TestEmulator;
let bucket: Bucket;
before(async () => {
  env = await startTestEmulator();
  [bucket] = await env.storage.createBucket(bucketName());
});
after(() => env.stop());

/** `uploadType=media`, which the client has no helper for: sent through its own request path. */
function mediaUpload(storage: Storage, url: string, bucket: string, name: string, body: string) {
  return new Promise<Record<string, unknown>>((resolve, reject) => {
    storage.request(
      {
        method: "POST",
        uri: `${url}/upload/storage/v1/b/${bucket}/o`,
        qs: { uploadType: "media", name },
        body,
        headers: { "Content-Type": "text/csv" },
      },
      (error, response) => (error ? reject(error) : resolve(response as Record<string, unknown>)),
    );
  });
}

describe("uploads", () => {
  test("a simple media upload stores the body with the request's content type", async () => {
    const resource = await mediaUpload(
      env.storage,
      env.emulator.url,
      bucket.name,
      "m.csv",
      "a,b\n",
    );
    assert.equal(resource.name, "m.csv");
    assert.equal(resource.contentType, "text/csv");
    assert.equal(resource.size, "4");
    const [bytes] = await bucket.file("m.csv").download();
    assert.equal(bytes.toString(), "a,b\n");
  });

  test("a multipart upload stores bytes and metadata, and its resource fits the registry", async () => {
    const file = bucket.file("docs/report.txt");
    const body = Buffer.from("multipart body\r\n--not-a-boundary\r\n");
    await file.save(body, {
      resumable: false,
      contentType: "text/plain",
      metadata: { cacheControl: "no-cache", metadata: { owner: "u1" } },
    });
    const [metadata] = await file.getMetadata();
    assert.equal(metadata.contentType, "text/plain");
    assert.equal(metadata.cacheControl, "no-cache");
    assert.deepEqual(metadata.metadata, { owner: "u1" });
    assert.equal(metadata.size, String(body.length));
    assert.deepEqual({ md5Hash: metadata.md5Hash, crc32c: metadata.crc32c }, checksumsOf([body]));
    storageObjectSchema.parse(metadata);
    const [bytes] = await file.download();
    assert.deepEqual(bytes, body);
  });

  test("a resumable upload in one request and in chunks store the same bytes", async () => {
    const bytes = Buffer.alloc(3 * 256 * 1024 + 17, 7);
    await bucket.file("one-request.bin").save(bytes);
    await bucket.file("chunked.bin").save(bytes, { chunkSize: 256 * 1024 });
    const puts = env.logs.filter((l) => String(l.path).includes("upload_id") && l.status === 308);
    assert.ok(puts.length >= 3, "the chunked upload went through 308 answers");
    for (const name of ["one-request.bin", "chunked.bin"]) {
      const [metadata] = await bucket.file(name).getMetadata();
      assert.equal(metadata.size, String(bytes.length));
      assert.equal(metadata.crc32c, checksumsOf([bytes]).crc32c);
      const [downloaded] = await bucket.file(name).download();
      assert.deepEqual(downloaded, bytes);
    }
  });

  test("an empty object can be uploaded and downloaded", async () => {
    await bucket.file("empty").save(Buffer.alloc(0), { resumable: false });
    await bucket.file("empty-resumable").save(Buffer.alloc(0));
    for (const name of ["empty", "empty-resumable"]) {
      const [bytes] = await bucket.file(name).download();
      assert.equal(bytes.length, 0);
    }
  });

  test("every upload makes a new generation; ifGenerationMatch guards it", async () => {
    const file = bucket.file("guarded.txt");
    await file.save("v1", { preconditionOpts: { ifGenerationMatch: 0 } });
    const [first] = await file.getMetadata();
    await assert.rejects(file.save("again", { preconditionOpts: { ifGenerationMatch: 0 } }), {
      code: 412,
    });
    await assert.rejects(
      file.save("again", { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }),
      { code: 412 },
    );
    await file.save("v2", { preconditionOpts: { ifGenerationMatch: Number(first.generation) } });
    const [second] = await file.getMetadata();
    assert.ok(BigInt(second.generation as string) > BigInt(first.generation as string));
    assert.equal(second.metageneration, "1");
    const [bytes] = await file.download();
    assert.equal(bytes.toString(), "v2");
    await assert.rejects(bucket.file("guarded.txt", { generation: first.generation }).download(), {
      code: 404,
    });
  });

  test("bytes that do not match the md5Hash or crc32c the client declared are refused", async () => {
    const wrong = { md5Hash: checksumsOf([Buffer.from("other")]).md5Hash };
    await assert.rejects(
      bucket.file("declared.txt").save("data", { resumable: false, metadata: wrong }),
      (error: Error & { code?: number }) => {
        assert.equal(error.code, 400);
        assert.match(error.message, /MD5 hash doesn't match/);
        return true;
      },
    );
    const wrongCrc = { crc32c: checksumsOf([Buffer.from("other")]).crc32c };
    await assert.rejects(bucket.file("declared.txt").save("data", { metadata: wrongCrc }));
    const [exists] = await bucket.file("declared.txt").exists();
    assert.equal(exists, false);
    await bucket
      .file("declared.txt")
      .save("data", { metadata: checksumsOf([Buffer.from("data")]) });
  });

  test("an upload to a missing bucket is a 404", async () => {
    const missing = env.storage.bucket(bucketName("missing"));
    await assert.rejects(missing.file("x").save("x", { resumable: false }), { code: 404 });
    await assert.rejects(missing.file("x").save("x"), (error: Error & { code?: number }) => {
      assert.equal(error.code, 404);
      return true;
    });
  });

  test("a gzip upload is served compressed and still hash-checked", async () => {
    const text = "compress me ".repeat(1000);
    const file = bucket.file("text.txt");
    await file.save(text, { gzip: true, contentType: "text/plain" });
    const [metadata] = await file.getMetadata();
    assert.equal(metadata.contentEncoding, "gzip");
    assert.ok(Number(metadata.size) < text.length);
    const [bytes] = await file.download({ validation: "crc32c" });
    assert.equal(bytes.toString(), text);
  });
});
