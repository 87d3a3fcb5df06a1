// Restores and migrations in place keep the sync contract (docs/contract.md): versions never go
// back, the feed and live streams carry what they write, and their events name the tool.
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, test } from "node:test";
import { Firestore, Timestamp } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { backupEnvSchema, backupService, restoreBackup } from "@syncstack/backup";
import { type MigrationTransform, runMigration } from "@syncstack/migrate";
import {
  backupRequested,
  contentKey,
  Publisher,
  parseAccessRules,
  type RealtimeUpdate,
  realtimeUpdates,
  toolOutboxCollection,
} from "@syncstack/shared";
import {
  emulatorHosts,
  resetFirestore,
  startServiceUnderTest,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import { openSse, type SseStream, startSync } from "@syncstack/sync/testing";
import fc from "fast-check";

const projectId = testProjectId();
const rulesJson = {
  collections: { shared_notes: { policy: "members", members_field: "members" } },
};
const rules = parseAccessRules(JSON.stringify(rulesJson), "the test's rules");
const sync = await startSync({ projectId, rules });
const scratch = await mkdtemp(join(tmpdir(), "contract-"));
// The backup service loads the rules sync writes with from ACCESS_RULES_FILE.
const rulesFile = join(scratch, "access-rules.json");
await writeFile(rulesFile, JSON.stringify(rulesJson));
const backup = await startServiceUnderTest(
  { name: "backup", envSchema: backupEnvSchema, define: (context) => backupService(context) },
  {
    projectId,
    buckets: true,
    topics: [backupRequested],
    unsubscribed: true,
    env: { ACCESS_RULES_FILE: rulesFile },
  },
);
// Migrations read with BigInt integers, as the CLI's client does.
const db = new Firestore({
  projectId,
  host: emulatorHosts().firestore,
  ssl: false,
  useBigInt: true,
});
// Assertions read integers as numbers.
const plain = sync.context.firestore;
const streams: SseStream[] = [];
let runs = 0;

after(async () => {
  for (const stream of streams) stream.close();
  await db.terminate();
  await backup.close();
  await sync.close();
});
beforeEach(() => resetFirestore(projectId));

const quiet = { progress: { write: () => true }, out: { write: () => true } };

async function write(
  document: string,
  data: Record<string, unknown>,
  uid = "alice",
  collection = "notes",
) {
  const response = await sync.post("/v1/sync", { collection, document, data }, { uid });
  assert.equal(response.status, 200, await response.text());
}

async function remove(document: string): Promise<void> {
  const response = await sync.request(`/v1/documents/notes/${document}`, { method: "DELETE" });
  assert.ok([200, 404].includes(response.status), await response.text());
}

/** Backs up `notes` through the backup service's own consumer; resolves with the backup id. */
async function backUp(collections = ["notes"]): Promise<string> {
  await db.doc("config/backup").set({ enabled: true, collections, retention_days: 30 });
  const status = await backup.push(backupRequested, { type: "manual" });
  assert.ok(status < 300, `the backup answered ${status}`);
  const records = await db.collection("backups").where("status", "==", "completed").get();
  const newest = records.docs
    .map((doc) => doc.id)
    .sort()
    .at(-1);
  assert.ok(newest, "a completed backup");
  return newest;
}

function restore(
  backupId: string,
  options: { undelete?: boolean; dryRun?: boolean; publisher?: Publisher } = {},
) {
  return restoreBackup({
    sourceDb: backup.context.firestore,
    targetDb: backup.context.firestore,
    storage: backup.context.storage,
    publisher: backup.context.publisher,
    backupId,
    throttle: false,
    deadlineMs: 20_000,
    ...options,
  });
}

function migrate(
  transform: MigrationTransform | undefined,
  from = "notes",
  to = "notes",
  more: { deleteSource?: boolean; tombstoneRetentionMs?: number } = {},
) {
  runs++;
  return runMigration(
    db,
    {
      from,
      to,
      where: [],
      transform,
      transformPath: undefined,
      recursive: false,
      deleteSource: more.deleteSource ?? false,
      tombstoneRetentionMs: more.tombstoneRetentionMs,
      dryRun: false,
      resume: false,
      restart: true,
      pageSize: 50,
      checkpointPath: join(scratch, `run-${runs}.json`),
      reportPath: join(scratch, `run-${runs}.failures.ndjson`),
      project: projectId,
      throttling: false,
      maxWriteAttempts: 10,
      publisher: sync.context.publisher,
      rules,
    },
    quiet,
  );
}

/** The in-place transform of the tests: sets `data.m` (a new content when `m` is new). */
const setM =
  (m: number): MigrationTransform =>
  (doc) => ({ ...doc, data: { ...(doc.data as Record<string, unknown>), m } });

/** What the version of each stored note names: no (document, version) may name two contents. */
class VersionBook {
  readonly #contents = new Map<string, string>();
  readonly #latest = new Map<string, number>();

  async check(step: string): Promise<void> {
    for (const doc of (await db.collection("notes").get()).docs) {
      const version = Number(doc.get("version"));
      const key = `${doc.id}@${version}`;
      const content = contentKey(doc.data(), true);
      const seen = this.#contents.get(key);
      assert.ok(
        seen === undefined || seen === content,
        `${step}: ${key} names two contents: ${seen} and ${content}`,
      );
      this.#contents.set(key, content);
      const latest = this.#latest.get(doc.id) ?? 0;
      assert.ok(version >= latest, `${step}: ${doc.id} went from version ${latest} to ${version}`);
      this.#latest.set(doc.id, version);
    }
  }
}

type Op =
  | { kind: "write"; doc: string; v: number }
  | { kind: "delete"; doc: string }
  | { kind: "backup" }
  | { kind: "restore"; pick: number; undelete: boolean; racing: boolean }
  | { kind: "migrate"; m: number }
  | { kind: "migrate-away" };

const doc = fc.constantFrom("d0", "d1", "d2");
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("write"), doc, v: fc.integer({ min: 0, max: 2 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("delete"), doc }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("backup") }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("restore"),
      pick: fc.nat(),
      undelete: fc.boolean(),
      racing: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("migrate"), m: fc.integer({ min: 0, max: 2 }) }),
  },
  // Moves every note to an archive: the sources become tombstones, later writes re-create them.
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("migrate-away") }) },
) as fc.Arbitrary<Op>;

describe("restore and migrate in place under the sync contract", () => {
  test("(collection, document, version) never names two contents over random interleavings", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 6, maxLength: 14 }), async (ops) => {
        await resetFirestore(projectId);
        const book = new VersionBook();
        const backups: string[] = [];
        for (const [index, step] of ops.entries()) {
          const name = `step ${index} ${JSON.stringify(step)}`;
          if (step.kind === "write") await write(step.doc, { v: step.v });
          else if (step.kind === "delete") await remove(step.doc);
          else if (step.kind === "backup") backups.push(await backUp());
          else if (step.kind === "migrate") await migrate(setM(step.m));
          else if (step.kind === "migrate-away") {
            await migrate(undefined, "notes", "notes_archive", { deleteSource: true });
          } else {
            const id = backups[step.pick % Math.max(backups.length, 1)];
            if (id === undefined) continue;
            // Racing: sync writes to every document while the restore reads and writes them.
            await Promise.all([
              restore(id, { undelete: step.undelete }),
              ...(step.racing ? ["d0", "d1", "d2"].map((d) => write(d, { v: 9 })) : []),
            ]);
          }
          await book.check(name);
        }
      }),
      { numRuns: 8, seed: 1919, endOnFailure: true },
    );
  });

  test("the feed and a live stream carry restored and migrated documents; events name the tool", async () => {
    await write("n1", { title: "first" });
    const backupId = await backUp();
    await write("n1", { title: "second" });
    const token = sync.token("alice");
    const stream = await openSse(`${sync.url}/v1/changes?collection=notes`, {
      authorization: `Bearer ${token}`,
    });
    streams.push(stream);
    await stream.waitForChanges(1);
    const feed = (await (
      await sync.get("/v1/changes?collection=notes", { uid: "alice" })
    ).json()) as { next_cursor: string };

    const report = await restore(backupId);
    assert.equal(report.collections[0]?.changed, 1);
    await stream.waitForChanges(2);
    await migrate(setM(1));

    const live = await stream.waitForChanges(3);
    assert.deepEqual(
      live.map((change) => `${change.item.document}@${change.item.version}`),
      ["n1@2", "n1@3", "n1@4"],
    );
    assert.deepEqual(live[1]?.item.data, { title: "first" });
    assert.deepEqual(live[2]?.item.data, { title: "first", m: 1 });
    const later = (await (
      await sync.get(`/v1/changes?collection=notes&since=${feed.next_cursor}`, { uid: "alice" })
    ).json()) as { changes: { document: string; version: number }[] };
    assert.deepEqual(
      later.changes.map((item) => `${item.document}@${item.version}`),
      ["n1@4"],
    );

    const events = await waitFor("the tools' events", () => {
      const found = sync
        .collected(realtimeUpdates)
        .payloads<RealtimeUpdate>()
        .filter((event) => event.document === "n1" && event.version > 2);
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(
      events.map((e) => [e.version, e.op, e.source, e.uid, e.created_by]),
      [
        [3, "update", "backup-restore", undefined, "alice"],
        [4, "update", "migrate", undefined, "alice"],
      ],
    );
    // The members' clocks follow too: the restored document is in the readers' order.
    const stored = await plain.doc("notes/n1").get();
    assert.equal(stored.get("sync_source"), "migrate");
    assert.ok(stored.get("readers.alice"));
  });

  test("a dry run says per collection what would change; deleted ones stay deleted unless asked", async () => {
    for (const id of ["same", "edited", "gone", "purged"]) await write(id, { id });
    const backupId = await backUp();
    await write("edited", { id: "edited later" });
    await remove("gone");
    await plain.doc("notes/purged").delete();
    const before = (await db.collection("notes").get()).docs.map((d) =>
      contentKey(d.data(), false),
    );

    const dry = await restore(backupId, { dryRun: true });
    assert.deepEqual(dry.collections, [
      {
        name: "notes",
        target: "notes",
        documents: 4,
        new: 1,
        changed: 1,
        unchanged: 1,
        deleted_since: 1,
        undeleted: 0,
      },
    ]);
    const after = (await db.collection("notes").get()).docs.map((d) => contentKey(d.data(), false));
    assert.deepEqual(after, before, "a dry run writes nothing");
    const dryUndelete = await restore(backupId, { dryRun: true, undelete: true });
    assert.equal(dryUndelete.collections[0]?.undeleted, 1);

    await restore(backupId);
    const gone = await plain.doc("notes/gone").get();
    assert.deepEqual([gone.get("deleted"), gone.get("version")], [true, 2]);
    const purged = await plain.doc("notes/purged").get();
    assert.deepEqual([purged.get("version"), purged.get("created_by")], [2, "alice"]);
    assert.equal(
      (await plain.doc("notes/same").get()).get("version"),
      1,
      "unchanged: no new version",
    );

    await restore(backupId, { undelete: true });
    const back = await plain.doc("notes/gone").get();
    assert.deepEqual(
      [back.get("deleted"), back.get("version"), back.get("data")],
      [undefined, 3, { id: "gone" }],
    );
    const event = await waitFor("the undelete's event", () =>
      sync
        .collected(realtimeUpdates)
        .payloads<RealtimeUpdate>()
        .find((e) => e.document === "gone" && e.version === 3),
    );
    assert.deepEqual([event.op, event.source, event.uid], ["create", "backup-restore", undefined]);
  });

  test("--delete-source leaves tombstones in an app collection: apps are told, versions go on", async () => {
    await write("moved-a", { title: "a" });
    await write("moved-a", { title: "a2" });
    await write("moved-b", { title: "b" }, "bob");
    const feed = (await (
      await sync.get("/v1/changes?collection=notes", { uid: "alice" })
    ).json()) as { next_cursor: string };
    const before = Date.now();
    const day = 86_400_000;
    const result = await migrate(undefined, "notes", "notes_archive", {
      deleteSource: true,
      tombstoneRetentionMs: 2 * day,
    });
    assert.deepEqual([result.counts.written, result.counts.deleted], [2, 2]);

    const a = await plain.doc("notes/moved-a").get();
    assert.deepEqual(
      [a.get("deleted"), a.get("data"), a.get("version"), a.get("created_by")],
      [true, undefined, 3, "alice"],
    );
    assert.equal(a.get("sync_source"), "migrate");
    assert.ok(a.get("deleted_at") instanceof Timestamp);
    const expires = (a.get("expire_at") as Timestamp).toMillis();
    assert.ok(expires >= before + 2 * day && expires <= Date.now() + 2 * day, "expire_at");
    assert.ok(a.get("readers.alice") instanceof Timestamp, "the readers' clocks are stamped");
    assert.deepEqual(Object.keys(a.get("readers") as object), ["alice"]);
    assert.deepEqual(
      [
        (await plain.doc("notes_archive/moved-a").get()).get("data"),
        (await plain.doc("notes/moved-b").get()).get("version"),
      ],
      [{ title: "a2" }, 2],
    );

    // Apps that synced the notes see them deleted, in the feed and in events.
    const later = (await (
      await sync.get(`/v1/changes?collection=notes&since=${feed.next_cursor}`, { uid: "alice" })
    ).json()) as { changes: { document: string; version: number; deleted?: boolean }[] };
    assert.deepEqual(
      later.changes.map((c) => [c.document, c.version, c.deleted]),
      [["moved-a", 3, true]],
    );
    const deletions = await waitFor("the tombstones' events", () => {
      const found = sync
        .collected(realtimeUpdates)
        .payloads<RealtimeUpdate>()
        .filter((e) => e.op === "delete" && e.document.startsWith("moved-"));
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(
      deletions
        .map((e) => [e.document, e.version, e.source, e.uid, e.created_by])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
      [
        ["moved-a", 3, "migrate", undefined, "alice"],
        ["moved-b", 2, "migrate", undefined, "bob"],
      ],
    );

    // Re-created by an app, a note continues from its tombstone's version.
    await write("moved-a", { title: "again" });
    assert.equal((await plain.doc("notes/moved-a").get()).get("version"), 4);
    await waitFor("the published outbox entries deleted", async () =>
      (await plain.collection(toolOutboxCollection).get()).empty ? true : undefined,
    );
  });

  test("a restore whose publisher fails still gets its events out: the sweeper publishes them", async () => {
    await write("p1", { n: 1 });
    await write("p2", { n: 1 });
    const backupId = await backUp();
    await write("p1", { n: 2 });
    await write("p2", { n: 2 });
    const pubsub = new PubSub({ projectId, apiEndpoint: "127.0.0.1:9", emulatorMode: true });
    const down = new Publisher(pubsub, { deadlineMs: 1_500 });
    try {
      const report = await restore(backupId, { publisher: down });
      assert.deepEqual([report.collections[0]?.changed, report.events_pending], [2, 2]);
    } finally {
      await down.close();
      await pubsub.close();
    }
    const restored = () =>
      sync
        .collected(realtimeUpdates)
        .payloads<RealtimeUpdate>()
        .filter((e) => e.source === "backup-restore" && ["p1", "p2"].includes(e.document));
    assert.deepEqual(restored(), [], "nothing published by the restore");
    const entries = await plain.collection(toolOutboxCollection).get();
    assert.equal(entries.size, 1, "the page's events are in one outbox entry");

    assert.equal(await sync.definition.sweeper.sweep(), 2);
    const events = await waitFor("the swept events", () => {
      const found = restored();
      return found.length >= 2 ? found : undefined;
    });
    assert.deepEqual(events.map((e) => [e.document, e.version, e.op, e.uid]).sort(), [
      ["p1", 3, "update", undefined],
      ["p2", 3, "update", undefined],
    ]);
    const stored = await plain.doc("notes/p1").get();
    assert.equal(events[0]?.timestamp, stored.updateTime?.toDate().toISOString());
    await waitFor("the published entry deleted", async () =>
      (await plain.collection(toolOutboxCollection).get()).empty ? true : undefined,
    );
  });

  test("the backup service's restore gives members-policy documents readers for their members", async () => {
    // Stored before the rules named the collection: readers hold the creator alone.
    await plain.doc("shared_notes/s1").set({
      data: { members: ["bob"], t: 1 },
      version: 1,
      created_by: "alice",
      readers: { alice: Timestamp.now() },
    });
    const backupId = await backUp(["shared_notes"]);
    await plain.doc("shared_notes/s1").delete();
    const response = await backup.post(
      `/v1/backups/${backupId}:restore`,
      {},
      { uid: "ops", claims: { admin: true } },
    );
    assert.equal(response.status, 200, await response.text());
    const stored = await plain.doc("shared_notes/s1").get();
    assert.deepEqual(Object.keys(stored.get("readers") as object).sort(), ["alice", "bob"]);
    assert.equal(stored.get("version"), 2);
    const bobs = await sync.get("/v1/documents/shared_notes/s1", { uid: "bob" });
    assert.equal(bobs.status, 200, await bobs.text());
    const feed = (await (
      await sync.get("/v1/changes?collection=shared_notes", { uid: "bob" })
    ).json()) as { changes: { document: string }[] };
    assert.deepEqual(
      feed.changes.map((c) => c.document),
      ["s1"],
    );
  });

  test("the docs' example transform works on documents as the API stores them", async () => {
    const text = await readFile(new URL("../../docs/migrations.md", import.meta.url), "utf8");
    const example = /```ts\n(\/\/ migrations\/notes-v2\.ts[\s\S]*?)```/.exec(text)?.[1];
    assert.ok(example, "docs/migrations.md has the notes-v2.ts example");
    const file = join(scratch, "notes-v2.ts");
    await writeFile(file, example);
    const { transform } = (await import(file)) as { transform: MigrationTransform };
    await write("a", { title: "  spaced  " });
    await write("b", { body: "untitled" });
    await write("c", { title: "deleted" });
    await remove("c");
    const result = await migrate(transform, "notes", "notes_v2");
    assert.deepEqual([result.counts.written, result.counts.skipped], [2, 1]);
    const a = await plain.doc("notes_v2/a").get();
    assert.deepEqual(a.get("data"), { title: "spaced", schema_version: 2 });
    assert.deepEqual([a.get("version"), a.get("created_by")], [2, "alice"]);
    assert.deepEqual((await plain.doc("notes_v2/b").get()).get("data.title"), "b");
    assert.equal((await plain.doc("notes_v2/c").get()).exists, false);
  });
});
