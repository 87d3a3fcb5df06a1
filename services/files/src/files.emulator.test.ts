import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { DocumentSnapshot } from "@google-cloud/firestore";
import type { Bucket } from "@google-cloud/storage";
import {
  defaultBucketNames,
  fileUploaded,
  type RealtimeUpdate,
  realtimeUpdates,
  type ServiceContext,
} from "@syncstack/shared";
import {
  type Collector,
  type ServiceUnderTest,
  startServiceUnderTest,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import sharp from "sharp";
import { filesService } from "./app.ts";
import { type FilesConfig, filesEnvSchema } from "./config.ts";
import { fileId } from "./file-id.ts";

const projectId = testProjectId();
const buckets = defaultBucketNames(projectId);
let files: ServiceUnderTest<FilesConfig, ReturnType<typeof filesService>>;
let ctx: ServiceContext<FilesConfig>;
let uploads: Bucket;
let thumbnails: Bucket;
let events: Collector;

before(async () => {
  files = await startServiceUnderTest(
    { name: "files", envSchema: filesEnvSchema, define: filesService },
    {
      projectId,
      env: {
        PUBLIC_BASE_URL: process.env.STORAGE_EMULATOR_HOST ?? "",
        MAX_IMAGE_PIXELS: "20000000",
      },
      topics: [fileUploaded, realtimeUpdates],
      buckets: true,
      collect: [realtimeUpdates],
    },
  );
  ctx = files.context;
  uploads = ctx.storage.bucket(buckets.uploads);
  thumbnails = ctx.storage.bucket(buckets.thumbnails);
  events = files.collected(realtimeUpdates);
});
after(() => files.close());
beforeEach(() => files.resetFirestore());

async function recordOf(name: string, check: (doc: DocumentSnapshot) => boolean = (d) => d.exists) {
  return waitFor(
    `files record of ${name}`,
    async () => {
      const doc = await ctx.firestore.collection("files").doc(fileId(buckets.uploads, name)).get();
      return check(doc) ? doc : undefined;
    },
    30_000,
  );
}

const jpeg = (width: number, height: number, orientation?: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .jpeg()
    .withMetadata(orientation ? { orientation } : {})
    .toBuffer();

describe("file-uploaded", () => {
  test("an image gets its record and WebP thumbnails, EXIF orientation applied, whatever type was declared", async () => {
    const name = "photos/2026/cat.jpg";
    // Stored 1200x900 with orientation 6 (rotate 90°): upright it is 900x1200.
    await uploads.file(name).save(await jpeg(1200, 900, 6), {
      resumable: false,
      contentType: "application/octet-stream",
      metadata: { metadata: { album: "pets" } },
    });
    const record = await recordOf(name, (doc) => doc.get("processed") === true);
    assert.equal(record.get("name"), name);
    assert.equal(record.get("bucket"), buckets.uploads);
    assert.equal(record.get("content_type"), "image/jpeg");
    assert.equal(record.get("declared_content_type"), "application/octet-stream");
    assert.deepEqual(record.get("metadata"), { album: "pets" });
    assert.deepEqual(
      [record.get("width"), record.get("height"), record.get("format")],
      [900, 1200, "jpeg"],
    );
    assert.equal(record.get("thumbnail_generated"), true);
    assert.ok(
      typeof record.get("md5") === "string" && typeof record.get("generation") === "string",
    );
    assert.ok(record.get("created").toMillis() > 0, "created is a Timestamp");
    const made = record.get("thumbnails") as {
      size: number;
      name: string;
      width: number;
      height: number;
    }[];
    assert.deepEqual(
      made.map((t) => [t.size, t.width, t.height]),
      [
        [200, 150, 200],
        [800, 600, 800],
      ],
    );
    for (const thumbnail of made) {
      const [bytes] = await thumbnails.file(thumbnail.name).download();
      const info = await sharp(bytes).metadata();
      assert.deepEqual(
        [info.format, info.width, info.height],
        ["webp", thumbnail.width, thumbnail.height],
      );
      const [metadata] = await thumbnails.file(thumbnail.name).getMetadata();
      assert.equal(metadata.metadata?.source_object, name);
    }
    const [event] = await waitFor("files event", () => {
      const found = events.payloads<RealtimeUpdate>().filter((e) => e.document === record.id);
      return found.length > 0 ? found : undefined;
    });
    assert.deepEqual(
      [event?.collection, event?.op, event?.version, event?.source],
      ["files", "create", 1, "files"],
    );
  });

  test("the bytes decide the type: a PNG declared as JPEG, a text file, a corrupt image", async () => {
    const png = await sharp({
      create: { width: 300, height: 100, channels: 4, background: "#00ff00" },
    })
      .png()
      .toBuffer();
    await uploads.file("lies.jpg").save(png, { resumable: false, contentType: "image/jpeg" });
    await uploads.file("notes.txt").save("hello", { resumable: false, contentType: "text/plain" });
    const corrupt = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5_000, 7)]);
    await uploads.file("broken.jpg").save(corrupt, { resumable: false, contentType: "image/jpeg" });

    const lies = await recordOf("lies.jpg", (doc) => doc.get("processed") === true);
    assert.equal(lies.get("content_type"), "image/png");
    assert.equal(lies.get("thumbnail_generated"), true);
    const notes = await recordOf("notes.txt", (doc) => doc.get("processed") === true);
    assert.equal(notes.get("content_type"), "text/plain");
    assert.equal(notes.get("thumbnail_generated"), false);
    assert.match(notes.get("processing_note"), /no thumbnail for text\/plain/);
    const broken = await recordOf("broken.jpg", (doc) => doc.get("processed") === true);
    assert.equal(broken.get("thumbnail_generated"), false);
    assert.match(broken.get("processing_note"), /image/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal((await recordOf("broken.jpg")).get("version"), 1, "acked once, not retried");
  });

  test("a decompression bomb is refused with its reason", async () => {
    const bomb = await sharp({
      create: { width: 6_000, height: 6_000, channels: 3, background: "#000" },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    await uploads.file("bomb.png").save(bomb, { resumable: false, contentType: "image/png" });
    const record = await recordOf("bomb.png", (doc) => doc.get("processed") === true);
    assert.equal(record.get("thumbnail_generated"), false);
    assert.match(record.get("processing_note"), /over the limit|pixel limit/);
  });

  test("a redelivered or late older notification changes nothing; a newer generation replaces", async () => {
    const name = "doc.jpg";
    const [first] = await uploads
      .file(name)
      .save(await jpeg(400, 300), { resumable: false })
      .then(() => uploads.file(name).getMetadata());
    const firstRecord = await recordOf(name, (doc) => doc.get("processed") === true);
    await uploads.file(name).save(await jpeg(640, 480), { resumable: false });
    const second = await recordOf(
      name,
      (doc) => doc.get("generation") !== first.generation && doc.get("processed") === true,
    );
    assert.equal(second.get("width"), 640);
    assert.equal(second.get("deleted"), false);
    assert.equal(second.get("deleted_at"), null, "whatever order the old delete came in");
    // Overwriting also sends OBJECT_DELETE for the first generation, in any order.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const settled = (await recordOf(name)).get("version");

    // The first generation's notification again, as a late redelivery would bring it.
    await ctx.publisher.publishRaw(fileUploaded.name, Buffer.from(JSON.stringify(first)), {
      eventType: "OBJECT_FINALIZE",
      bucketId: buckets.uploads,
      objectId: name,
      objectGeneration: String(first.generation),
      payloadFormat: "JSON_API_V1",
    });
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const after = await recordOf(name);
    assert.equal(after.get("version"), settled, "the late notification wrote nothing");
    assert.equal(after.get("width"), 640);
    assert.equal(after.get("deleted"), false);
    const oldThumbnails = firstRecord.get("thumbnails") as { name: string }[];
    for (const thumbnail of oldThumbnails) {
      const [exists] = await thumbnails.file(thumbnail.name).exists();
      assert.equal(exists, false, "the replaced generation's thumbnails are removed");
    }
  });

  test("deleting the object marks the record deleted and removes its thumbnails", async () => {
    const name = "gone.jpg";
    await uploads.file(name).save(await jpeg(300, 300), { resumable: false });
    const record = await recordOf(name, (doc) => doc.get("thumbnail_generated") === true);
    const made = record.get("thumbnails") as { name: string }[];
    await uploads.file(name).delete();
    const deleted = await recordOf(name, (doc) => doc.get("deleted") === true);
    assert.equal(deleted.get("thumbnail_generated"), false);
    for (const thumbnail of made)
      assert.equal((await thumbnails.file(thumbnail.name).exists())[0], false);
    await waitFor("delete event", () =>
      events.payloads<RealtimeUpdate>().find((e) => e.document === record.id && e.op === "delete"),
    );
  });
});
