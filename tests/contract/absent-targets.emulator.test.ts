// A migration into a target whose first pages it finds empty stops reading the target (it
// assumes the rest absent) and still never reuses a version of a document it meets later.
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Firestore, Timestamp } from "@google-cloud/firestore";
import { runMigration } from "@syncstack/migrate";
import { toolOutboxCollection } from "@syncstack/shared";
import { emulatorHosts, testProjectId } from "@syncstack/shared/testing";

const projectId = testProjectId();
const db = new Firestore({ projectId, host: emulatorHosts().firestore, ssl: false });
const scratch = await mkdtemp(join(tmpdir(), "absent-"));
after(() => db.terminate());

function migrate(_transform: undefined, from: string, to: string) {
  return runMigration(
    db,
    {
      from,
      to,
      where: [],
      transform: undefined,
      transformPath: undefined,
      recursive: false,
      deleteSource: false,
      dryRun: false,
      resume: false,
      restart: true,
      pageSize: 50,
      checkpointPath: join(scratch, "run.json"),
      reportPath: join(scratch, "run.failures.ndjson"),
      project: projectId,
      throttling: false,
      maxWriteAttempts: 10,
    },
    { progress: { write: () => true }, out: { write: () => true } },
  );
}

describe("a copy into a target it finds empty", () => {
  test("a copy that found its first pages' targets absent still continues the versions of later ones", async () => {
    const writer = db.bulkWriter({ throttling: false });
    const stored = (_n: number, version: number, data: Record<string, unknown>) => ({
      data,
      version,
      created_by: "alice",
      readers: { alice: Timestamp.now() },
    });
    const id = (n: number) => `c${String(n).padStart(3, "0")}`;
    for (let n = 0; n < 250; n++) void writer.set(db.doc(`notes/${id(n)}`), stored(n, 1, { n }));
    // Only the fifth page (of 50) is in the target: the pages before it are written unread.
    for (let n = 200; n < 250; n++) {
      const [version, data] = n === 240 ? [3, { n }] : [7, { n, old: true }];
      void writer.set(db.doc(`notes_copy/${id(n)}`), stored(n, version, data));
    }
    await writer.close();
    const result = await migrate(undefined, "notes", "notes_copy");
    assert.deepEqual(
      [result.counts.written, result.counts.failed, result.counts.unchanged],
      [250, 0, 1],
    );
    const at = async (n: number) => {
      const doc = await db.doc(`notes_copy/${id(n)}`).get();
      return [doc.get("version"), doc.get("data")];
    };
    assert.deepEqual(await at(0), [2, { n: 0 }]);
    assert.deepEqual(await at(210), [8, { n: 210 }], "one past the target's version");
    assert.deepEqual(await at(240), [3, { n: 240 }], "the same content keeps its version");
    // Without a publisher every event waits in the outbox, for sync's sweeper: 249 of them.
    const entries = await db.collection(toolOutboxCollection).get();
    const events = entries.docs.flatMap((entry) => JSON.parse(entry.get("events") as string));
    assert.equal(events.length, 249);
    assert.ok(events.some((e) => e.document === "c210" && e.version === 8 && e.op === "update"));
  });
});
