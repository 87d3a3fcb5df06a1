import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { findTarget, NoTargetError, type StackFile, stackEnvironment } from "./target.ts";

const empty = await mkdtemp(join(tmpdir(), "syncstack-target-empty-"));
const running = await mkdtemp(join(tmpdir(), "syncstack-target-stack-"));
after(() => Promise.all([empty, running].map((dir) => rm(dir, { recursive: true, force: true }))));
const stack: StackFile = {
  projectId: "demo-target",
  pubsub: "127.0.0.1:18085",
  firestore: "127.0.0.1:18080",
  auth: "127.0.0.1:19099",
  storage: "http://127.0.0.1:14443",
  services: {
    sync: "http://127.0.0.1:18081",
    files: "http://127.0.0.1:18082",
    backup: "http://127.0.0.1:18083",
    analytics: "http://127.0.0.1:18084",
  },
  buckets: { uploads: "u", thumbnails: "t", backups: "b" },
};
await writeFile(join(running, "stack.json"), JSON.stringify(stack));

test("with no stack and no project it refuses, saying how to start one or name a project", async () => {
  const refusal = findTarget({
    project: undefined,
    uses: ["firestore"],
    env: { SYNCSTACK_STATE_DIR: empty, GOOGLE_CLOUD_PROJECT: "my-real-project" },
  });
  await assert.rejects(refusal, NoTargetError);
  await assert.rejects(refusal, /no local stack is running .*stack\.json is missing/);
  await assert.rejects(refusal, /start the stack with \.\/syncstack up, or pass --project <id>/);
});

test("the running stack's stack.json gives the endpoints", async () => {
  const target = await findTarget({
    project: undefined,
    uses: ["firestore", "storage"],
    env: { SYNCSTACK_STATE_DIR: running },
  });
  assert.deepEqual(target, { kind: "stack", projectId: "demo-target", stack });
  assert.deepEqual(stackEnvironment(stack), {
    GOOGLE_CLOUD_PROJECT: "demo-target",
    FIRESTORE_EMULATOR_HOST: "127.0.0.1:18080",
    PUBSUB_EMULATOR_HOST: "127.0.0.1:18085",
    STORAGE_EMULATOR_HOST: "http://127.0.0.1:14443",
    METADATA_SERVER_DETECTION: "none",
  });
});

test("a project named on the command line is the real one, even with a stack running", async () => {
  const target = await findTarget({
    project: "my-real-project",
    uses: ["firestore"],
    env: { SYNCSTACK_STATE_DIR: running },
  });
  assert.deepEqual(target, { kind: "cloud", projectId: "my-real-project" });
});

test("emulators named in the environment win, and each one the tool uses must be named", async () => {
  const env = { SYNCSTACK_STATE_DIR: running, FIRESTORE_EMULATOR_HOST: "127.0.0.1:9" };
  assert.deepEqual(await findTarget({ project: "demo-p", uses: ["firestore"], env }), {
    kind: "emulators",
    projectId: "demo-p",
  });
  assert.deepEqual(
    await findTarget({
      project: undefined,
      uses: ["firestore"],
      env: { ...env, GOOGLE_CLOUD_PROJECT: "demo-q" },
    }),
    { kind: "emulators", projectId: "demo-q" },
  );
  await assert.rejects(
    findTarget({ project: undefined, uses: ["firestore", "storage"], env }),
    /FIRESTORE_EMULATOR_HOST is set but STORAGE_EMULATOR_HOST not/,
  );
});
