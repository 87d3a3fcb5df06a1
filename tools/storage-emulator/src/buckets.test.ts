import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { bucketName, startTestEmulator, type TestEmulator } from "./testing/index.ts";

let env: TestEmulator;
before(async () => {
  env = await startTestEmulator();
});
after(() => env.stop());

describe("buckets", () => {
  test("are created, read, updated and deleted through the client", async () => {
    const name = bucketName();
    const [bucket] = await env.storage.createBucket(name, {
      location: "EU",
      labels: { team: "sync" },
    });
    const created = bucket.metadata;
    assert.equal(created.name, name);
    assert.equal(created.kind, "storage#bucket");
    assert.equal(created.location, "EU");

    const [exists] = await bucket.exists();
    assert.equal(exists, true);
    const [metadata] = await env.storage.bucket(name).getMetadata();
    assert.equal(metadata.id, name);
    assert.deepEqual(metadata.labels, { team: "sync" });
    assert.equal(metadata.metageneration, "1");

    const [patched] = await bucket.setMetadata({ labels: { team: "files" } });
    assert.deepEqual(patched.labels, { team: "files" });
    assert.equal(patched.metageneration, "2");

    await bucket.delete();
    const [gone] = await bucket.exists();
    assert.equal(gone, false);
  });

  test("are listed by project, with a prefix and page by page", async () => {
    const prefix = bucketName("list");
    const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
    for (const name of names) await env.storage.createBucket(name);
    const [all] = await env.storage.getBuckets({ prefix });
    assert.deepEqual(
      all.map((b) => b.name),
      names,
    );

    const [firstPage, next] = await env.storage.getBuckets({
      prefix,
      maxResults: 2,
      autoPaginate: false,
    });
    assert.deepEqual(
      firstPage.map((b) => b.name),
      names.slice(0, 2),
    );
    assert.ok((next as { pageToken?: string } | null)?.pageToken, "a next page token");
    const [secondPage] = await env.storage.getBuckets({ ...next, autoPaginate: false });
    assert.deepEqual(
      secondPage.map((b) => b.name),
      names.slice(2),
    );

    const [otherProject] = await env.storage.getBuckets({ prefix, project: "demo-other" });
    assert.deepEqual(otherProject, []);
  });

  test("answer errors in the JSON API's format", async () => {
    const missing = env.storage.bucket(bucketName("missing"));
    await assert.rejects(
      missing.getMetadata(),
      (error: Error & { code?: number; errors?: unknown }) => {
        assert.equal(error.code, 404);
        assert.equal(error.message, "The specified bucket does not exist.");
        assert.deepEqual(error.errors, [
          { message: "The specified bucket does not exist.", domain: "global", reason: "notFound" },
        ]);
        return true;
      },
    );

    const name = bucketName();
    const [bucket] = await env.storage.createBucket(name);
    await assert.rejects(env.storage.createBucket(name), { code: 409 });
    await assert.rejects(env.storage.createBucket("Not_A_Valid_Name"), { code: 400 });

    await bucket.file("keep.txt").save("x");
    await assert.rejects(bucket.delete(), (error: Error & { code?: number }) => {
      assert.equal(error.code, 409);
      assert.match(error.message, /not empty/);
      return true;
    });
    await bucket.deleteFiles();
    await bucket.delete();
  });
});
