import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Storage } from "@google-cloud/storage";
import { emulatorHosts, testProjectId } from "@syncstack/shared/testing";
import { downloadObject } from "./download-object.ts";

emulatorHosts();
const projectId = testProjectId();
const storage = new Storage({ projectId });
const bucket = storage.bucket(`${projectId}-downloads`);
const big = randomBytes(1_500_000);
const small = Buffer.from("tiny");
let directory: string;

before(async () => {
  await bucket.create();
  await bucket.file("big.bin").save(big, { resumable: false });
  await bucket.file("small.txt").save(small, { resumable: false });
  directory = await mkdtemp(join(tmpdir(), "syncstack-download-"));
});
after(() => rm(directory, { recursive: true, force: true }));

test("many downloads, whole or stopped at the head, add no listeners that pile up", async () => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on("warning", onWarning);
  try {
    const rounds = Array.from({ length: 40 }, (_, i) => i);
    for (const i of rounds.slice(0, 10)) {
      const whole = await downloadObject(
        bucket.file("big.bin"),
        join(directory, `s${i}`),
        () => true,
      );
      assert.ok(whole?.path);
      assert.ok((await readFile(whole.path)).equals(big));
    }
    const results = await Promise.all(
      rounds.map((i) =>
        downloadObject(bucket.file("big.bin"), join(directory, `c${i}`), () => i % 2 === 0),
      ),
    );
    for (const [i, result] of results.entries()) {
      assert.ok(result?.head.equals(big.subarray(0, result.head.length)));
      assert.equal(result?.path !== undefined, i % 2 === 0);
    }
    const tiny = await downloadObject(bucket.file("small.txt"), join(directory, "t"), () => true);
    assert.deepEqual(await readFile(tiny?.path ?? ""), small);
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(
      warnings.map((warning) => `${warning.name}: ${warning.message}`),
      [],
    );
  } finally {
    process.off("warning", onWarning);
  }
});

test("a generation that no longer exists is undefined", async () => {
  const [metadata] = await bucket.file("small.txt").getMetadata();
  await bucket.file("small.txt").save("replaced", { resumable: false });
  const gone = bucket.file("small.txt", { generation: Number(metadata.generation) });
  assert.equal(await downloadObject(gone, join(directory, "gone"), () => true), undefined);
  assert.equal(
    await downloadObject(bucket.file("missing.txt"), join(directory, "m"), () => true),
    undefined,
  );
});
