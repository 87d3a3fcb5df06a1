import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { Firestore } from "@google-cloud/firestore";
import { emulatorHosts, resetFirestore, testProjectId, waitFor } from "@syncstack/shared/testing";
import { defaultCheckpointPath, readCheckpoint } from "./checkpoint.ts";
import { docId, seed, temporaryDir } from "./migration-test-setup.ts";

const projectId = testProjectId();
const cli = join(import.meta.dirname, "migrate-cli.ts");
const fixture = (name: string) => join(import.meta.dirname, "fixtures", name);
let db: Firestore;
let cwd: string;

/** Starts `pnpm migrate` as the CLI runs it, in `cwd`, against the runner's emulator. */
function start(args: string[], env: Record<string, string | undefined> = {}): ChildProcess {
  // Not run by pnpm: relative paths are relative to cwd.
  const childEnv = {
    ...process.env,
    GOOGLE_CLOUD_PROJECT: projectId,
    npm_lifecycle_event: "",
    ...env,
  };
  return spawn(process.execPath, ["--conditions=source", cli, ...args], { cwd, env: childEnv });
}

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const child = start(args, env);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => (stdout += chunk));
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, stdout, stderr };
}

async function count(collection: string): Promise<number> {
  return Number((await db.collection(collection).count().get()).data().count);
}

/** Update times of documents of `out` up to `upTo`, from a query that fetches no fields. */
async function updateTimes(upTo: string): Promise<Map<string, string>> {
  const snapshot = await db.collection("out").select().get();
  return new Map(
    snapshot.docs
      .filter((doc) => doc.id <= upTo)
      .map((doc) => [doc.id, `${doc.updateTime.seconds}.${doc.updateTime.nanoseconds}`]),
  );
}

before(() => {
  db = new Firestore({ projectId, host: emulatorHosts().firestore, ssl: false, useBigInt: true });
});
after(() => db.terminate());
beforeEach(async () => {
  await resetFirestore(projectId);
  cwd = await temporaryDir();
});
afterEach(() => rm(cwd, { recursive: true, force: true }));

describe("pnpm migrate", () => {
  test("--help prints the usage and exits 0", async () => {
    const { code, stdout } = await run(["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /^usage: \.\/syncstack migrate --from <collection> --to <collection>/);
    assert.match(stdout, /--dry-run/);
  });

  test("bad arguments print what is wrong and the usage, exit 2 and touch nothing", async () => {
    await seed(db, "notes", 5);
    const cases: [string[], RegExp, Record<string, string | undefined>?][] = [
      [[], /--from and --to are required/],
      [["--from", "notes", "--to", "notes"], /same collection: nothing to copy/],
      [["--from", "notes/n1", "--to", "out"], /notes\/n1 is a document path/],
      [["--from", "notes", "--to", "out", "--page-size", "0"], /--page-size must be/],
      [["--from", "notes", "--to", "out", "--where", "n ~ 3"], /unknown operator ~/],
      [["--from", "notes", "--to", "out", "--bogus"], /unknown option --bogus/],
      [["--from", "notes", "--to", "out", "--resume", "--restart"], /exclude each other/],
      [["--from", "notes", "--to", "out", "--transform", "nope.ts"], /nope\.ts: no such file/],
      [
        ["--from", "notes", "--to", "out", "--transform", fixture("not-a-function.ts")],
        /exports no function/,
      ],
      [
        ["--from", "notes", "--to", "out", "--transform", fixture("throws-on-load.ts")],
        /does not load: this module cannot be loaded/,
      ],
      [
        ["--from", "notes", "--to", "out"],
        /set GOOGLE_CLOUD_PROJECT or --project/,
        { GOOGLE_CLOUD_PROJECT: undefined },
      ],
    ];
    const results = await Promise.all(cases.map(([args, , env]) => run(args, env)));
    for (const [index, { code, stderr }] of results.entries()) {
      const [args, message] = cases[index] ?? [[], /./];
      assert.equal(code, 2, `exit code for ${args.join(" ")}`);
      assert.match(stderr, message);
      assert.match(stderr, /\n\nusage: \.\/syncstack migrate/);
    }
    assert.equal(await count("out"), 0);
    assert.equal(await count("notes"), 5);
    assert.equal(existsSync(join(cwd, ".syncstack")), false, "no checkpoint or report written");
  });

  test("exits 1 at once when no emulator answers at FIRESTORE_EMULATOR_HOST", async () => {
    const { code, stderr } = await run(["--from", "notes", "--to", "out"], {
      FIRESTORE_EMULATOR_HOST: "127.0.0.1:1",
    });
    assert.equal(code, 1);
    assert.match(stderr, /no Firestore emulator answers at 127\.0\.0\.1:1/);
    assert.equal(existsSync(join(cwd, ".syncstack")), false);
  });

  test("exits 1 when documents fail, with the summary, the report and plain progress lines", async () => {
    await seed(db, "notes", 100);
    const { code, stdout, stderr } = await run([
      "--from",
      "notes",
      "--to",
      "out",
      "--transform",
      fixture("fail-some.ts"),
    ]);
    assert.equal(code, 1);
    assert.match(
      stdout,
      /read +100\n {2}written +50\n {2}skipped +10 .*\n {2}failed +40 +reasons in /,
    );
    assert.match(stderr, /^notes -> out 100\/100 \(100\.0%\) [\d,]+ docs\/s ETA 0s$/m);
    assert.doesNotMatch(stderr, /\r/);
    const report = join(cwd, ".syncstack", "migrations", "notes->out.failures.ndjson");
    assert.equal((await readFile(report, "utf8")).trim().split("\n").length, 40);
    assert.equal(await count("out"), 50);
  });

  test("a run killed midway resumes from its checkpoint without rewriting finished documents", async () => {
    await seed(db, "notes", 20_000);
    const args = [
      "--from",
      "notes",
      "--to",
      "out",
      "--transform",
      fixture("add-version.ts"),
      "--page-size",
      "200",
    ];
    const checkpointPath = defaultCheckpointPath(cwd, "notes", "out");
    const child = start(args);
    await waitFor(
      "a checkpoint a fifth of the way",
      async () =>
        ((await readCheckpoint(checkpointPath).catch(() => undefined))?.counts.read ?? 0) >=
          4_000 || undefined,
      60_000,
    );
    child.kill("SIGKILL");
    const [, signal] = (await once(child, "exit")) as [number | null, string | null];
    assert.equal(signal, "SIGKILL");

    const checkpoint = await readCheckpoint(checkpointPath);
    assert.ok(checkpoint && !checkpoint.complete && checkpoint.after);
    assert.ok(checkpoint.counts.read < 20_000, "killed before the end");
    const finished = await updateTimes(checkpoint.after.id);
    assert.equal(finished.size, checkpoint.counts.read);

    const refused = await run(args);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /an interrupted run left the checkpoint .*pass --resume/);

    const resumed = await run([...args, "--resume"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /complete in .*\n {2}read +20,000\n {2}written +20,000/);
    const out = await db.collection("out").get();
    assert.equal(out.size, 20_000);
    for (const doc of out.docs) {
      const n = Number(doc.id.slice(1));
      assert.deepEqual(doc.data(), {
        n: BigInt(n),
        title: `document ${n}`,
        schema_version: 2n,
        migrated_from: doc.id,
      });
    }
    assert.deepEqual(
      await updateTimes(checkpoint.after.id),
      finished,
      "finished documents not rewritten",
    );
    assert.equal((await readCheckpoint(checkpointPath))?.complete, true);
  });

  test("Ctrl-C finishes the pages in flight, saves the checkpoint and exits 130", async () => {
    await seed(db, "notes", 3_000);
    const args = ["--from", "notes", "--to", "out", "--page-size", "20"];
    const checkpointPath = defaultCheckpointPath(cwd, "notes", "out");
    const child = start(args);
    let stdout = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    await waitFor(
      "a first checkpoint",
      async () => (await readCheckpoint(checkpointPath).catch(() => undefined)) ?? undefined,
      60_000,
    );
    child.kill("SIGINT");
    const [code] = (await once(child, "exit")) as [number | null];
    assert.equal(code, 130);
    assert.match(stdout, /interrupted .*continue with --resume/);
    const checkpoint = await readCheckpoint(checkpointPath);
    assert.ok(checkpoint?.after && !checkpoint.complete);
    assert.ok((await count("out")) >= checkpoint.counts.read);

    const resumed = await run([...args, "--resume"]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /complete in .*\n {2}read +3,000\n {2}written +3,000/);
    assert.equal(await count("out"), 3_000);
    assert.equal((await readCheckpoint(checkpointPath))?.after?.id, docId(2_999));
  });
});

describe("./syncstack migrate without FIRESTORE_EMULATOR_HOST", () => {
  test("migrates the running stack's Firestore, found through its stack.json", async () => {
    await seed(db, "notes", 7);
    const stateDir = join(cwd, "state");
    await mkdir(stateDir);
    const stack = { projectId, firestore: emulatorHosts().firestore };
    await writeFile(join(stateDir, "stack.json"), JSON.stringify(stack));
    const { code, stderr } = await run(["--from", "notes", "--to", "from_stack"], {
      FIRESTORE_EMULATOR_HOST: undefined,
      PUBSUB_EMULATOR_HOST: undefined,
      STORAGE_EMULATOR_HOST: undefined,
      // The stack's project, not this one, is the one migrated.
      GOOGLE_CLOUD_PROJECT: "demo-not-this-one",
      SYNCSTACK_STATE_DIR: stateDir,
    });
    assert.equal(code, 0, stderr);
    assert.equal(await count("from_stack"), 7);
  });

  test("with no stack and no --project it stops, saying what to do, with exit 2", async () => {
    const { code, stderr } = await run(["--from", "notes", "--to", "out"], {
      FIRESTORE_EMULATOR_HOST: undefined,
      PUBSUB_EMULATOR_HOST: undefined,
      STORAGE_EMULATOR_HOST: undefined,
      SYNCSTACK_STATE_DIR: join(cwd, "no-state"),
    });
    assert.equal(code, 2);
    assert.match(stderr, /start the stack with \.\/syncstack up, or pass --project <id>/);
  });
});
