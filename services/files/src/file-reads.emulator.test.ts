import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import type { DocumentSnapshot, Timestamp } from "@google-cloud/firestore";
import type { Bucket } from "@google-cloud/storage";
import {
  defaultBucketNames,
  fileUploaded,
  type RealtimeUpdate,
  realtimeUpdates,
} from "@syncstack/shared";
import {
  type Collector,
  type ServiceUnderTest,
  startServiceUnderTest,
  testProjectId,
  waitFor,
  withoutTraceId,
} from "@syncstack/shared/testing";
import sharp from "sharp";
import { filesService } from "./app.ts";
import { type FilesConfig, filesEnvSchema } from "./config.ts";
import { fileId } from "./file-id.ts";

const projectId = testProjectId();
const buckets = defaultBucketNames(projectId);
const admin = { uid: "root", claims: { admin: true } };
let files: ServiceUnderTest<FilesConfig, ReturnType<typeof filesService>>;
let uploads: Bucket;
let thumbnails: Bucket;
let events: Collector;

before(async () => {
  files = await startServiceUnderTest(
    { name: "files", envSchema: filesEnvSchema, define: filesService },
    {
      projectId,
      env: { PUBLIC_BASE_URL: process.env.STORAGE_EMULATOR_HOST ?? "" },
      topics: [fileUploaded, realtimeUpdates],
      buckets: true,
      collect: [realtimeUpdates],
    },
  );
  uploads = files.context.storage.bucket(buckets.uploads);
  thumbnails = files.context.storage.bucket(buckets.thumbnails);
  events = files.collected(realtimeUpdates);
});
after(() => files.close());
beforeEach(() => files.resetFirestore());

const idOf = (name: string) => fileId(buckets.uploads, name);

/** Uploads `name` and waits for its processed record. */
async function upload(name: string, content: string | Buffer = `bytes of ${name}`) {
  await uploads.file(name).save(content, { resumable: false });
  return recordOf(name, (doc) => doc.get("processed") === true);
}

async function recordOf(name: string, check: (doc: DocumentSnapshot) => boolean) {
  return waitFor(
    `files record of ${name}`,
    async () => {
      const doc = await files.context.firestore.collection("files").doc(idOf(name)).get();
      return doc.exists && check(doc) ? doc : undefined;
    },
    30_000,
  );
}

async function json<T>(response: Response): Promise<T> {
  return withoutTraceId(await response.json()) as T;
}

interface Listing {
  files: { id: string; name: string; owner: string; created: string; deleted: boolean }[];
  next_page_token: string | null;
}
interface ErrorBody {
  error: { code: string; message: string };
}

const jpeg = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 20, g: 90, b: 200 } } })
    .jpeg()
    .toBuffer();

describe("owners", () => {
  test("an upload under users/{uid}/ records its owner and its events carry created_by; others have owner null", async () => {
    const own = await upload("users/alice/notes/today.txt");
    const outside = await upload("shared/readme.txt");
    const noRest = await upload("users/alice");
    assert.equal(own.get("owner"), "alice");
    assert.equal(outside.get("owner"), null);
    assert.equal(noRest.get("owner"), null, "users/{uid} with nothing after it is no one's");

    await uploads.file("users/alice/notes/today.txt").delete();
    const deleted = await recordOf("users/alice/notes/today.txt", (d) => d.get("deleted") === true);
    assert.equal(deleted.get("owner"), "alice", "the owner is kept on delete");

    const eventsOf = (id: string, count: number) =>
      waitFor(`${count} events of ${id}`, () => {
        const found = events.payloads<RealtimeUpdate>().filter((e) => e.document === id);
        return found.length >= count ? found : undefined;
      });
    const ownEvents = await eventsOf(own.id, 2);
    assert.deepEqual(
      ownEvents.map((e) => [e.op, e.created_by]),
      [
        ["create", "alice"],
        ["delete", "alice"],
      ],
    );
    for (const record of [outside, noRest]) {
      const [event] = await eventsOf(record.id, 1);
      assert.equal(event?.op, "create");
      assert.equal("created_by" in (event ?? {}), false, "no created_by without an owner");
    }
  });
});

describe("GET /v1/files", () => {
  test("a user lists their own files that are not deleted, newest first, a page at a time", async () => {
    const names = [1, 2, 3, 4, 5].map((n) => `users/alice/f${n}.txt`);
    for (const name of names) await upload(name);
    await upload("users/bob/theirs.txt");
    await upload("public/nobody.txt");
    await uploads.file(names[2] as string).delete();
    await recordOf(names[2] as string, (doc) => doc.get("deleted") === true);

    // What the listing must return: alice's live records by (created desc, id desc).
    const live = await Promise.all(
      names.filter((_, i) => i !== 2).map((name) => recordOf(name, () => true)),
    );
    const created = (doc: DocumentSnapshot) => doc.get("created") as Timestamp;
    const expected = live
      .sort(
        (a, b) =>
          created(b).toMillis() - created(a).toMillis() ||
          created(b).nanoseconds - created(a).nanoseconds ||
          (a.id < b.id ? 1 : -1),
      )
      .map((doc) => doc.id);

    const whole = await json<Listing>(await files.get("/v1/files", { uid: "alice" }));
    assert.deepEqual(
      whole.files.map((f) => f.id),
      expected,
    );
    assert.equal(whole.next_page_token, null);
    assert.ok(whole.files.every((f) => f.owner === "alice" && f.deleted === false));
    for (let i = 1; i < whole.files.length; i++) {
      const [newer, older] = [whole.files[i - 1], whole.files[i]];
      assert.ok(String(newer?.created) >= String(older?.created), "newest first");
    }

    const paged: string[] = [];
    const sizes: number[] = [];
    let token: string | null = null;
    do {
      const query: string = token ? `limit=3&page_token=${encodeURIComponent(token)}` : "limit=3";
      const response = await files.get(`/v1/files?${query}`, { uid: "alice" });
      assert.equal(response.status, 200);
      const page = await json<Listing>(response);
      paged.push(...page.files.map((f) => f.id));
      sizes.push(page.files.length);
      token = page.next_page_token;
    } while (token);
    assert.deepEqual(paged, expected);
    assert.deepEqual(sizes, [3, 1]);

    const bob = await json<Listing>(await files.get("/v1/files", { uid: "bob" }));
    assert.deepEqual(
      bob.files.map((f) => f.name),
      ["users/bob/theirs.txt"],
    );
    const carol = await json<Listing>(await files.get("/v1/files", { uid: "carol" }));
    assert.deepEqual(carol, { files: [], next_page_token: null });
  });

  test("an admin lists any user's files with owner=; anyone else is refused", async () => {
    await upload("users/bob/b1.txt");
    await upload("users/alice/a1.txt");
    const listed = await json<Listing>(await files.get("/v1/files?owner=bob", admin));
    assert.deepEqual(
      listed.files.map((f) => f.name),
      ["users/bob/b1.txt"],
    );
    const own = await json<Listing>(await files.get("/v1/files", admin));
    assert.deepEqual(own.files, [], "without owner= an admin lists their own");
    const refused = await files.get("/v1/files?owner=bob", { uid: "alice" });
    assert.equal(refused.status, 403);
    assert.match((await json<ErrorBody>(refused)).error.message, /owner is for admins only/);
    const self = await json<Listing>(await files.get("/v1/files?owner=alice", { uid: "alice" }));
    assert.deepEqual(
      self.files.map((f) => f.name),
      ["users/alice/a1.txt"],
    );
  });

  test("bad query parameters are a 400 naming them; a page token continues only its own listing", async () => {
    for (const name of ["users/bob/x1.txt", "users/bob/x2.txt"]) await upload(name);
    const bobs = await json<Listing>(await files.get("/v1/files?limit=1", { uid: "bob" }));
    assert.ok(bobs.next_page_token);
    const cases: [string, RegExp][] = [
      ["limit=0", /limit must be at least 1/],
      ["limit=1001", /limit must be at most 1000/],
      ["limit=ten", /limit must be a number/],
      ["limit=1.5", /limit must be an integer/],
      ["limit=1&limit=2", /limit/],
      ["page_token=nope", /page_token is not a token this listing returned/],
      [`page_token=${Buffer.from('{"s":1}').toString("base64url")}`, /page_token/],
      [`page_token=${bobs.next_page_token}`, /page_token continues the listing of another owner/],
      ["sort=name", /unknown query parameter: sort/],
      ["cursor=1&x=2", /unknown query parameters: cursor, x/],
    ];
    for (const [query, message] of cases) {
      const response = await files.get(`/v1/files?${query}`, { uid: "alice" });
      assert.equal(response.status, 400, query);
      const { error } = await json<ErrorBody>(response);
      assert.equal(error.code, "invalid_argument", query);
      assert.match(error.message, message, query);
    }
    const next = await files.get(`/v1/files?limit=1&page_token=${bobs.next_page_token}`, {
      uid: "bob",
    });
    assert.equal((await json<Listing>(next)).files.length, 1, "bob's token continues bob's list");
  });
});

describe("GET /v1/files/{id}", () => {
  test("the owner reads their record with a strong ETag; If-None-Match answers 304", async () => {
    const record = await upload("users/alice/doc.txt");
    const response = await files.get(`/v1/files/${record.id}`, { uid: "alice" });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("etag"), '"1"');
    const body = await json<Record<string, unknown>>(response);
    assert.equal(body.id, record.id);
    assert.equal(body.name, "users/alice/doc.txt");
    assert.equal(body.owner, "alice");
    assert.equal(body.version, 1);
    assert.equal(body.created, (record.get("created") as Timestamp).toDate().toISOString());
    assert.match(String(body.record_updated_at), /^\d{4}-\d\d-\d\dT.*Z$/, "timestamps are ISO");
    assert.deepEqual(body.thumbnails, []);

    for (const tag of ['"1"', 'W/"1"', '"7", "1"', "*"]) {
      const cached = await files.get(`/v1/files/${record.id}`, {
        uid: "alice",
        headers: { "if-none-match": tag },
      });
      assert.equal(cached.status, 304, tag);
      assert.equal(cached.headers.get("etag"), '"1"');
      assert.equal(await cached.text(), "");
    }
    const changed = await files.get(`/v1/files/${record.id}`, {
      uid: "alice",
      headers: { "if-none-match": '"0"' },
    });
    assert.equal(changed.status, 200);

    await uploads.file("users/alice/doc.txt").delete();
    await recordOf("users/alice/doc.txt", (doc) => doc.get("deleted") === true);
    const gone = await files.get(`/v1/files/${record.id}`, {
      uid: "alice",
      headers: { "if-none-match": '"1"' },
    });
    assert.equal(gone.status, 200, "a new version is a new ETag");
    assert.equal(gone.headers.get("etag"), '"2"');
    assert.equal((await json<{ deleted: boolean }>(gone)).deleted, true);
  });

  test("another user's record answers exactly as a missing one; an admin reads any", async () => {
    const record = await upload("users/alice/secret.txt");
    const outside = await upload("loose/file.txt");
    const missing = "0".repeat(40);
    const answer = async (id: string, uid: string) => {
      const response = await files.get(`/v1/files/${id}`, { uid });
      return {
        status: response.status,
        etag: response.headers.get("etag"),
        body: await json<ErrorBody>(response),
      };
    };
    const theirs = await answer(record.id, "bob");
    const none = await answer(missing, "bob");
    assert.deepEqual(theirs, {
      status: 404,
      etag: null,
      body: { error: { code: "not_found", message: `file ${record.id} not found` } },
    });
    assert.deepEqual(
      { ...none, body: none.body.error.message.replace(missing, record.id) },
      { ...theirs, body: theirs.body.error.message },
      "the same answer but for the id",
    );
    const ownerless = await answer(outside.id, "bob");
    assert.equal(ownerless.status, 404, "a record with no owner is for admins only");
    const malformed = await answer("not-an-id", "bob");
    assert.deepEqual(malformed.body, {
      error: { code: "not_found", message: "file not-an-id not found" },
    });

    for (const id of [record.id, outside.id]) {
      const read = await files.get(`/v1/files/${id}`, admin);
      assert.equal(read.status, 200);
      assert.equal((await json<{ id: string }>(read)).id, id);
    }
    const query = await files.get(`/v1/files/${record.id}?fields=name`, { uid: "alice" });
    assert.equal(query.status, 400);
    assert.match((await json<ErrorBody>(query)).error.message, /unknown query parameter: fields/);
    const anonymous = await files.get(`/v1/files/${record.id}`, { uid: null });
    assert.equal(anonymous.status, 401);
  });
});

describe("GET /v1/files/{id}/thumbnails/{size}", () => {
  test("streams the thumbnail to its owner and an admin, with its type and ETag; 404 otherwise", async () => {
    const name = "users/alice/photos/lake.jpg";
    await uploads.file(name).save(await jpeg(1_000, 600), { resumable: false });
    const record = await recordOf(name, (doc) => doc.get("thumbnail_generated") === true);
    const stored = record.get("thumbnails") as { size: number; name: string }[];
    const body = await json<{ thumbnails: { size: number; url: string }[]; thumbnail_url: string }>(
      await files.get(`/v1/files/${record.id}`, { uid: "alice" }),
    );
    assert.deepEqual(
      body.thumbnails.map((t) => [t.size, t.url]),
      stored.map((t) => [t.size, `/v1/files/${record.id}/thumbnails/${t.size}`]),
    );
    assert.equal(body.thumbnail_url, `/v1/files/${record.id}/thumbnails/200`);

    for (const thumbnail of stored) {
      const url = `/v1/files/${record.id}/thumbnails/${thumbnail.size}`;
      const [expected] = await thumbnails.file(thumbnail.name).download();
      const [metadata] = await thumbnails.file(thumbnail.name).getMetadata();
      for (const caller of [{ uid: "alice" }, admin]) {
        const response = await files.get(url, caller);
        assert.equal(response.status, 200, `${url} for ${caller.uid}`);
        assert.equal(response.headers.get("content-type"), "image/webp");
        assert.equal(response.headers.get("etag"), `"${metadata.generation}"`);
        const bytes = Buffer.from(await response.arrayBuffer());
        assert.ok(bytes.equals(expected), "the stored thumbnail's bytes");
        assert.equal((await sharp(bytes).metadata()).format, "webp");
      }
      const cached = await files.get(url, {
        uid: "alice",
        headers: { "if-none-match": `"${metadata.generation}"` },
      });
      assert.equal(cached.status, 304);
      assert.equal(await cached.text(), "");
    }

    const refusals: [string, string, string][] = [
      ["bob", "200", `file ${record.id} not found`],
      ["bob", "999", `file ${record.id} not found`],
      ["alice", "999", `thumbnail 999 of file ${record.id} not found`],
      ["alice", "abc", `thumbnail abc of file ${record.id} not found`],
    ];
    for (const [uid, size, message] of refusals) {
      const response = await files.get(`/v1/files/${record.id}/thumbnails/${size}`, { uid });
      assert.equal(response.status, 404, `${uid} ${size}`);
      assert.deepEqual(await json<ErrorBody>(response), { error: { code: "not_found", message } });
    }
    const query = await files.get(`/v1/files/${record.id}/thumbnails/200?w=1`, { uid: "alice" });
    assert.equal(query.status, 400);
    assert.match((await json<ErrorBody>(query)).error.message, /unknown query parameter: w/);

    await uploads.file(name).delete();
    await recordOf(name, (doc) => doc.get("deleted") === true);
    const afterDelete = await files.get(`/v1/files/${record.id}/thumbnails/200`, { uid: "alice" });
    assert.equal(afterDelete.status, 404, "a deleted file's thumbnails are gone");
  });
});
