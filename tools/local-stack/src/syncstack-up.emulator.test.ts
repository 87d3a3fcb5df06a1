// `./syncstack up` as a user runs it: through the bash script, stopped by a signal to the pid
// the user sees, its services on loopback only, its data kept or not as a whole.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { promisify } from "node:util";
import { Firestore } from "@google-cloud/firestore";
import { Storage } from "@google-cloud/storage";
import { serviceNames } from "@syncstack/shared";
import type { StackFile } from "@syncstack/shared/cli";
import { repoRoot } from "./paths.ts";
import { listeningAddresses, processesUsing } from "./proc-net.ts";
import { stackStarted } from "./stack-started.ts";

const stateDir = await mkdtemp(join(tmpdir(), "syncstack-up-"));
after(() => rm(stateDir, { recursive: true, force: true }));
// This process talks to the stack's own emulators: the clients would prefer the test
// runner's, named by these variables.
for (const name of ["FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST"]) {
  delete process.env[name];
}
const projectId = "demo-uptest";

const exec = promisify(execFile);

async function run(command: string, args: string[], env: NodeJS.ProcessEnv) {
  return exec(command, args, { env, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

type Up = { child: ChildProcess; file: StackFile; output: string[]; ports: number[] };

async function up(...args: string[]): Promise<Up> {
  const output: string[] = [];
  const child = spawn(
    join(repoRoot, "syncstack"),
    ["up", "--free-ports", "--state-dir", stateDir, "--project", projectId, ...args],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const file = await stackStarted(child, stateDir, output, 120_000);
  const ports = [
    file.pubsub,
    file.firestore,
    file.auth,
    file.storage,
    ...(file.telemetry ? [file.telemetry] : []),
    ...Object.values(file.services),
  ].map((url) => Number(url.split(":").pop()));
  return { child, file, output, ports };
}

/** Signals the pid `./syncstack up` was started as and checks that nothing is left. */
async function stop(stack: Up, signal: "SIGTERM" | "SIGINT"): Promise<void> {
  const exited = once(stack.child, "exit");
  stack.child.kill(signal);
  const [code] = await exited;
  assert.equal(code, 0, stack.output.join(""));
  for (const port of stack.ports) {
    assert.deepEqual(await listeningAddresses(port), [], `nothing listens on ${port}`);
  }
  assert.deepEqual(await processesUsing(stack.ports), [], "no process is left behind");
}

/** Writes a document and uploads an object, as a user of the stack would. */
async function addData(file: StackFile): Promise<void> {
  const db = new Firestore({ projectId, host: file.firestore, ssl: false });
  await db.collection("kept").doc("one").set({ n: 1 });
  await db.terminate();
  const storage = new Storage({ projectId, apiEndpoint: file.storage });
  await storage.bucket(file.buckets.backups).file("kept.txt").save("hi", { resumable: false });
}

/** How many documents and objects of `addData` the stack has. */
async function dataOf(file: StackFile): Promise<{ documents: number; objects: number }> {
  const db = new Firestore({ projectId, host: file.firestore, ssl: false });
  const documents = (await db.collection("kept").get()).size;
  await db.terminate();
  const storage = new Storage({ projectId, apiEndpoint: file.storage });
  const [files] = await storage.bucket(file.buckets.backups).getFiles({ prefix: "kept" });
  return { documents, objects: files.length };
}

test("SIGTERM to the pid of ./syncstack up stops everything; the services listen on loopback only", async (t) => {
  const stack = await up();
  t.after(() => {
    if (stack.child.exitCode === null) stack.child.kill("SIGKILL");
  });
  const cmdline = await readFile(`/proc/${stack.child.pid}/cmdline`, "utf8");
  assert.match(cmdline, /stack-cli\.ts/, "the pid the user sees is the stack CLI's, not a shell's");

  for (const name of serviceNames) {
    const port = Number(stack.file.services[name].split(":").pop());
    assert.deepEqual(await listeningAddresses(port), ["127.0.0.1"], `${name} listens on loopback`);
  }
  const outside = Object.values(networkInterfaces())
    .flat()
    .find((address) => address?.family === "IPv4" && !address.internal)?.address;
  if (outside !== undefined) {
    const port = stack.file.services.sync.split(":").pop();
    await assert.rejects(
      fetch(`http://${outside}:${port}/healthz`, { signal: AbortSignal.timeout(3_000) }),
      `sync is not reachable on ${outside}`,
    );
  }
  // A tool finds this stack through its stack.json, with no emulator named in the environment.
  const provision = await run(
    process.execPath,
    ["--conditions=source", join(repoRoot, "tools/local-stack/src/provision-cli.ts")],
    { ...process.env, SYNCSTACK_STATE_DIR: stateDir },
  );
  assert.equal(provision.code, 0, provision.stderr);
  assert.match(provision.stdout, /push subscriptions to sync, files, backup, analytics/);
  await addData(stack.file);
  await stop(stack, "SIGTERM");
});

test("SIGINT stops it too; without --persist storage and Firestore both start empty", async (t) => {
  const stack = await up();
  t.after(() => {
    if (stack.child.exitCode === null) stack.child.kill("SIGKILL");
  });
  assert.deepEqual(await dataOf(stack.file), { documents: 0, objects: 0 });
  await stop(stack, "SIGINT");
});

test("with --persist storage and Firestore both keep their data across a restart", async (t) => {
  const first = await up("--persist");
  t.after(() => {
    if (first.child.exitCode === null) first.child.kill("SIGKILL");
  });
  assert.deepEqual(await dataOf(first.file), { documents: 0, objects: 0 });
  await addData(first.file);
  await stop(first, "SIGTERM");
  const second = await up("--persist");
  t.after(() => {
    if (second.child.exitCode === null) second.child.kill("SIGKILL");
  });
  assert.deepEqual(await dataOf(second.file), { documents: 1, objects: 1 });
  await stop(second, "SIGTERM");
  const third = await up();
  t.after(() => {
    if (third.child.exitCode === null) third.child.kill("SIGKILL");
  });
  assert.deepEqual(await dataOf(third.file), { documents: 0, objects: 0 }, "and not without it");
  await stop(third, "SIGINT");
});
