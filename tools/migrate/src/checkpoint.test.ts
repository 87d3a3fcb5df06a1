import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, test } from "node:test";
import {
  type Checkpoint,
  checkpointVersion,
  defaultCheckpointPath,
  defaultReportPath,
  emptyCounts,
  type MigrationIdentity,
  writeCheckpoint,
} from "./checkpoint.ts";
import { openFailureReport } from "./failure-report.ts";
import { temporaryDir } from "./migration-test-setup.ts";
import { planStart } from "./plan-start.ts";

const identity: MigrationIdentity = {
  project: "p",
  from: "users/u1/notes",
  to: "notes",
  where: [],
  transform: null,
  recursive: false,
  deleteSource: false,
};
let dir: string;
let path: string;

function checkpoint(overrides: Partial<Checkpoint> = {}): Checkpoint {
  return {
    version: checkpointVersion,
    migration: identity,
    after: { id: "d9", values: [] },
    complete: false,
    counts: { ...emptyCounts(), read: 10, written: 10 },
    reportBytes: 0,
    updatedAt: new Date(0).toISOString(),
    ...overrides,
  };
}

beforeEach(async () => {
  dir = await temporaryDir();
  path = defaultCheckpointPath(dir, identity.from, identity.to);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("checkpoint files", () => {
  test("live under .syncstack/migrations, named after both collections, report beside", () => {
    assert.equal(path, join(dir, ".syncstack/migrations/users%2Fu1%2Fnotes->notes.json"));
    assert.equal(defaultReportPath(path, false), path.replace(/\.json$/, ".failures.ndjson"));
    assert.equal(
      defaultReportPath(path, true),
      path.replace(/\.json$/, ".dry-run-failures.ndjson"),
    );
  });
});

describe("planStart", () => {
  const plan = (
    options: {
      resume?: boolean;
      restart?: boolean;
      dryRun?: boolean;
      identity?: MigrationIdentity;
    } = {},
  ) =>
    planStart({
      checkpointPath: path,
      identity,
      resume: false,
      restart: false,
      dryRun: false,
      ...options,
    });

  test("starts afresh without a checkpoint, saying so when asked to resume", async () => {
    assert.deepEqual(await plan(), { kind: "fresh" });
    const resumed = await plan({ resume: true });
    assert.match(
      resumed.kind === "fresh" ? (resumed.note ?? "") : "",
      /no checkpoint at .*from the beginning/,
    );
  });

  test("resumes an interrupted run only when asked to", async () => {
    await writeCheckpoint(path, checkpoint());
    await assert.rejects(plan(), {
      code: "invalid_argument",
      message: /left the checkpoint .* \(10 documents done\): pass --resume .* or --restart/,
    });
    assert.deepEqual(await plan({ resume: true }), { kind: "resume", checkpoint: checkpoint() });
  });

  test("a completed migration is done whether resumed or not", async () => {
    await writeCheckpoint(path, checkpoint({ complete: true }));
    assert.equal((await plan()).kind, "done");
    assert.equal((await plan({ resume: true })).kind, "done");
  });

  test("refuses a checkpoint of another migration, naming what differs", async () => {
    await writeCheckpoint(path, checkpoint());
    const other = { ...identity, recursive: true, transform: "/t.ts" };
    await assert.rejects(plan({ resume: true, identity: other }), {
      message: /belongs to another migration \(it differs in transform, recursive\)/,
    });
  });

  test("--restart discards the checkpoint; a dry run ignores it", async () => {
    await writeCheckpoint(path, checkpoint({ complete: true }));
    assert.deepEqual(await plan({ dryRun: true }), { kind: "fresh" });
    assert.ok(existsSync(path));
    assert.deepEqual(await plan({ restart: true }), { kind: "fresh" });
    assert.equal(existsSync(path), false);
  });

  test("a file that is not a checkpoint is reported, not overwritten", async () => {
    await writeCheckpoint(path, checkpoint());
    await writeFile(path, "{ not json");
    await assert.rejects(plan({ resume: true }), {
      code: "invalid_argument",
      message: /cannot read the checkpoint/,
    });
    assert.equal(await readFile(path, "utf8"), "{ not json");
  });

  test("a checkpoint of the old cursor encoding is refused with what to do, not misread", async () => {
    const old = { ...checkpoint(), version: 1, after: { id: "d9", values: [{ int: "3" }] } };
    await writeCheckpoint(path, checkpoint());
    await writeFile(path, JSON.stringify(old));
    await assert.rejects(plan({ resume: true }), { message: /older migrate.*--restart/ });
  });
});

describe("failure report", () => {
  test("appends NDJSON lines and, on resume, cuts what the checkpoint had not counted", async () => {
    const reportPath = join(dir, "deep", "report.ndjson");
    const first = await openFailureReport(reportPath, 0);
    await first.append([]);
    assert.equal(existsSync(reportPath), false, "no file without failures");
    await first.append([{ id: "a", reason: "r1" }]);
    const kept = first.bytes;
    await first.append([{ id: "b", reason: "r2", path: "b/sub/c" }]);

    const resumed = await openFailureReport(reportPath, kept);
    await resumed.append([{ id: "c", reason: "r3" }]);
    assert.equal(
      await readFile(reportPath, "utf8"),
      '{"id":"a","reason":"r1"}\n{"id":"c","reason":"r3"}\n',
    );
    await openFailureReport(reportPath, 0);
    assert.equal(existsSync(reportPath), false, "a fresh run starts a fresh report");
  });
});
