import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Storage } from "@google-cloud/storage";
import { bucketName, startTestEmulator, type TestEmulator } from "./testing/index.ts";

let env: TestEmulator;
before(async () => {
  env = await startTestEmulator();
});
after(() => env.stop());

describe("plain HTTP endpoints", () => {
  test("GET / answers 200 Ok, for readiness probes", async () => {
    const response = await fetch(`${env.emulator.url}/`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "Ok");
  });

  test("mediaLink and the public URL download the object", async () => {
    const [bucket] = await env.storage.createBucket(bucketName());
    const file = bucket.file("folder/pic one.png");
    await file.save("png bytes", { contentType: "image/png" });
    const [metadata] = await file.getMetadata();
    for (const url of [metadata.mediaLink as string, file.publicUrl()]) {
      const response = await fetch(url);
      assert.equal(response.status, 200, url);
      assert.equal(response.headers.get("content-type"), "image/png");
      assert.equal(await response.text(), "png bytes");
    }
  });

  test("unknown paths and methods answer JSON errors", async () => {
    const response = await fetch(`${env.emulator.url}/storage/v1/nothing/here`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), {
      error: {
        code: 404,
        message: "Not Found",
        errors: [{ message: "Not Found", domain: "global", reason: "notFound" }],
      },
    });
    const wrong = await fetch(`${env.emulator.url}/storage/v1/b`, { method: "DELETE" });
    assert.equal(wrong.status, 405);
  });
});

describe("a client configured only by STORAGE_EMULATOR_HOST", () => {
  // With the variable set the client drops `/storage/v1` from JSON API paths but keeps it in
  // upload paths; the emulator answers both.
  test("creates, uploads, lists, downloads and deletes", async () => {
    process.env.STORAGE_EMULATOR_HOST = env.emulator.url;
    try {
      const storage = new Storage({ projectId: "demo-env-host" });
      const [bucket] = await storage.createBucket(bucketName("env"));
      await bucket.file("a/one.txt").save("one");
      await bucket.file("a/two.txt").save("two", { resumable: false });
      const [files] = await bucket.getFiles({ prefix: "a/" });
      assert.deepEqual(
        files.map((f) => f.name),
        ["a/one.txt", "a/two.txt"],
      );
      const [bytes] = await bucket.file("a/one.txt").download({ validation: "crc32c" });
      assert.equal(bytes.toString(), "one");
      await bucket.deleteFiles();
      await bucket.delete();
    } finally {
      delete process.env.STORAGE_EMULATOR_HOST;
    }
    assert.ok(env.logs.some((line) => String(line.path).startsWith("/b?project=demo-env-host")));
  });
});
