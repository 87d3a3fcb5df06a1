import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Bucket, FileMetadata, GetFilesOptions } from "@google-cloud/storage";
import { bucketName, startTestEmulator, type TestEmulator } from "./testing/index.ts";

let env: TestEmulator;
let bucket: Bucket;
before(async () => {
  env = await startTestEmulator();
  [bucket] = await env.storage.createBucket(bucketName());
});
after(() => env.stop());

describe("object metadata", () => {
  test("patch merges content type, cache control and custom metadata", async () => {
    const file = bucket.file("meta.txt");
    await file.save("x", { metadata: { contentType: "text/plain", metadata: { a: "1", b: "2" } } });
    const [patched] = await file.setMetadata({
      contentType: "application/json",
      cacheControl: "public, max-age=60",
      metadata: { b: null, c: 3 },
    });
    assert.equal(patched.contentType, "application/json");
    assert.equal(patched.cacheControl, "public, max-age=60");
    assert.deepEqual(patched.metadata, { a: "1", c: "3" });
    assert.equal(patched.metageneration, "2");
    const [read] = await file.getMetadata();
    assert.deepEqual(read, patched);

    // The client's types have no null for these, the API clears a field set to null.
    const clear = { cacheControl: null, metadata: null } as unknown as FileMetadata;
    const [cleared] = await file.setMetadata(clear);
    assert.equal(cleared.cacheControl, undefined);
    assert.equal(cleared.metadata, undefined);
    assert.equal(cleared.metageneration, "3");
  });

  test("metageneration preconditions guard a patch", async () => {
    const file = bucket.file("meta-guarded.txt");
    await file.save("x");
    await assert.rejects(file.setMetadata({ contentType: "a/b" }, { ifMetagenerationMatch: 5 }), {
      code: 412,
    });
    const [ok] = await file.setMetadata({ contentType: "a/b" }, { ifMetagenerationMatch: 1 });
    assert.equal(ok.contentType, "a/b");
  });

  test("a missing object is a 404 in the API's error format", async () => {
    await assert.rejects(
      bucket.file("nope").getMetadata(),
      (error: Error & { code?: number; errors?: Array<{ reason: string }> }) => {
        assert.equal(error.code, 404);
        assert.equal(error.message, `No such object: ${bucket.name}/nope`);
        assert.equal(error.errors?.[0]?.reason, "notFound");
        return true;
      },
    );
    const [exists] = await bucket.file("nope").exists();
    assert.equal(exists, false);
    await assert.rejects(bucket.file("nope").download(), { code: 404 });
    await assert.rejects(bucket.file("nope").setMetadata({ contentType: "a/b" }), { code: 404 });
  });
});

describe("listing", () => {
  const names = ["a.txt", "dir/one.txt", "dir/sub/two.txt", "dir/three.txt", "other/x", "z.txt"];
  let listing: Bucket;
  before(async () => {
    [listing] = await env.storage.createBucket(bucketName("list"));
    for (const name of names) await listing.file(name).save(name, { resumable: false });
  });

  test("lists everything in name order", async () => {
    const [files] = await listing.getFiles();
    assert.deepEqual(
      files.map((f) => f.name),
      [...names].sort(),
    );
  });

  test("filters by prefix and folds names past a delimiter into prefixes", async () => {
    const [files, , response] = await listing.getFiles({
      prefix: "dir/",
      delimiter: "/",
      autoPaginate: false,
    });
    assert.deepEqual(
      files.map((f) => f.name),
      ["dir/one.txt", "dir/three.txt"],
    );
    assert.deepEqual((response as { prefixes?: string[] }).prefixes, ["dir/sub/"]);

    const [top, , topResponse] = await listing.getFiles({ delimiter: "/", autoPaginate: false });
    assert.deepEqual(
      top.map((f) => f.name),
      ["a.txt", "z.txt"],
    );
    assert.deepEqual((topResponse as { prefixes?: string[] }).prefixes, ["dir/", "other/"]);
  });

  test("pages with maxResults and page tokens, prefixes included", async () => {
    const seen: string[] = [];
    let query: GetFilesOptions | null = { delimiter: "/", maxResults: 1, autoPaginate: false };
    let pages = 0;
    while (query) {
      const [files, next, response] = await listing.getFiles(query);
      const prefixes = (response as { prefixes?: string[] }).prefixes ?? [];
      seen.push(...files.map((f) => f.name), ...prefixes);
      query = next as GetFilesOptions | null;
      pages += 1;
    }
    assert.equal(pages, 4);
    assert.deepEqual(seen, ["a.txt", "dir/", "other/", "z.txt"]);

    const [all] = await listing.getFiles({ maxResults: 2 });
    assert.equal(all.length, 2, "maxResults with autoPaginate stops at the count");
    const [everything] = await listing.getFiles({ autoPaginate: true, maxApiCalls: 10 });
    assert.equal(everything.length, names.length);
  });

  test("startOffset and endOffset bound the names", async () => {
    const [files] = await listing.getFiles({ startOffset: "dir/", endOffset: "other/" });
    assert.deepEqual(
      files.map((f) => f.name),
      ["dir/one.txt", "dir/sub/two.txt", "dir/three.txt"].sort(),
    );
  });
});

describe("delete", () => {
  test("removes the object; preconditions guard it", async () => {
    const file = bucket.file("doomed.txt");
    await file.save("x");
    const [metadata] = await file.getMetadata();
    await assert.rejects(file.delete({ ifGenerationMatch: 1 }), { code: 412 });
    await file.delete({ ifGenerationMatch: Number(metadata.generation) });
    const [exists] = await file.exists();
    assert.equal(exists, false);
    await assert.rejects(file.delete(), { code: 404 });
    await file.delete({ ignoreNotFound: true });
  });
});

describe("copy and rewrite", () => {
  test("copy rewrites bytes and metadata into a new object, even across buckets", async () => {
    const source = bucket.file("src.txt");
    await source.save("copy me", {
      metadata: { contentType: "text/plain", cacheControl: "no-store", metadata: { k: "v" } },
    });
    const [target] = await env.storage.createBucket(bucketName("copy"));
    const [copied, response] = await source.copy(target.file("dst.txt"));
    const rewrite = response as { kind: string; done: boolean; resource: Record<string, unknown> };
    assert.equal(rewrite.kind, "storage#rewriteResponse");
    assert.equal(rewrite.done, true);
    assert.equal(rewrite.resource.bucket, target.name);
    const [metadata] = await copied.getMetadata();
    const [sourceMetadata] = await source.getMetadata();
    assert.equal(metadata.contentType, "text/plain");
    assert.equal(metadata.cacheControl, "no-store");
    assert.deepEqual(metadata.metadata, { k: "v" });
    assert.equal(metadata.md5Hash, sourceMetadata.md5Hash);
    assert.equal(metadata.crc32c, sourceMetadata.crc32c);
    assert.notEqual(metadata.generation, sourceMetadata.generation);
    const [bytes] = await copied.download();
    assert.equal(bytes.toString(), "copy me");
  });

  test("fields given to copy replace the source's; custom metadata as a whole", async () => {
    const source = bucket.file("src2.txt");
    await source.save("x", { metadata: { contentType: "text/plain", metadata: { old: "1" } } });
    const [copied] = await source.copy("dst2.txt", {
      metadata: { fresh: "2" },
      cacheControl: "private",
    } as object);
    const [metadata] = await copied.getMetadata();
    assert.equal(metadata.contentType, "text/plain");
    assert.equal(metadata.cacheControl, "private");
    assert.deepEqual(metadata.metadata, { fresh: "2" });
  });

  test("copy honours ifGenerationMatch on the destination and a source generation", async () => {
    const source = bucket.file("src3.txt");
    await source.save("first");
    const [firstGeneration] = await source.getMetadata();
    await source.save("second");
    await bucket.file("dst3.txt").save("taken");
    await assert.rejects(
      source.copy("dst3.txt", { preconditionOpts: { ifGenerationMatch: 0 } }),
      (error: Error) => {
        assert.match(error.message, /pre-conditions/);
        return true;
      },
    );
    const old = bucket.file("src3.txt", { generation: firstGeneration.generation });
    await assert.rejects(old.copy("dst4.txt"), { code: 404 });
    await source.copy("dst4.txt", { preconditionOpts: { ifGenerationMatch: 0 } });
    const [bytes] = await bucket.file("dst4.txt").download();
    assert.equal(bytes.toString(), "second");
  });

  test("move and moveFileAtomic leave only the destination", async () => {
    await bucket.file("move-a.txt").save("a");
    await bucket.file("move-a.txt").move("move-b.txt");
    await bucket.file("move-b.txt").moveFileAtomic("move-c.txt");
    const [a] = await bucket.file("move-a.txt").exists();
    const [b] = await bucket.file("move-b.txt").exists();
    const [bytes] = await bucket.file("move-c.txt").download();
    assert.deepEqual([a, b, bytes.toString()], [false, false, "a"]);
  });
});
