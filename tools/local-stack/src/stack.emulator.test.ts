import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Firestore } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { deadLetterTopicName, serviceNames, topics } from "@syncstack/shared";
import { waitFor } from "@syncstack/shared/testing";
import { signUp } from "./auth-emulator-api.ts";
import { freePort } from "./free-port.ts";
import { processesUsing } from "./proc-net.ts";
import { stackStarted } from "./stack-started.ts";

const cli = fileURLToPath(new URL("./stack-cli.ts", import.meta.url));
const trigger = fileURLToPath(new URL("./trigger-cli.ts", import.meta.url));
const userCli = fileURLToPath(new URL("./user-cli.ts", import.meta.url));
const stateDir = await mkdtemp(join(tmpdir(), "syncstack-stack-"));
after(() => rm(stateDir, { recursive: true, force: true }));

function run(
  args: string[],
  env: Record<string, string> = {},
): { child: ChildProcess; output: string[] } {
  const output: string[] = [];
  const child = spawn(process.execPath, ["--conditions=source", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  return { child, output };
}

test("the stack command starts everything, provisions the registry, signs users in with its Auth emulator, and stops without leftovers", async (t) => {
  const { child, output } = run([
    cli,
    "--free-ports",
    "--state-dir",
    stateDir,
    "--project",
    "demo-stacktest",
  ]);
  const exited = once(child, "exit");
  // A failing assertion must not leave the stack running.
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGTERM");
  });
  const file = await stackStarted(child, stateDir, output, 90_000);
  assert.equal(file.projectId, "demo-stacktest");
  assert.deepEqual(Object.keys(file.services).sort(), [...serviceNames].sort());
  for (const name of serviceNames) {
    const health = await fetch(`${file.services[name]}/healthz`);
    assert.equal(health.status, 200, `${name} is healthy`);
  }

  const pubsub = new PubSub({
    projectId: file.projectId,
    apiEndpoint: file.pubsub,
    emulatorMode: true,
  });
  const [existing] = await pubsub.getTopics();
  const names = existing.map((topic) => topic.name.split("/").pop()).sort();
  assert.deepEqual(names, topics.flatMap((t) => [t.name, deadLetterTopicName(t)]).sort());
  const [subscriptions] = await pubsub.getSubscriptions();
  const pushes = subscriptions.map((s) => s.metadata?.pushConfig?.pushEndpoint).filter(Boolean);
  assert.ok(pushes.includes(`${file.services.analytics}/pubsub/stats-tick`));
  await pubsub.close();

  // End to end: an upload to the stack's storage becomes a files record through the notification.
  // The clients prefer the *_EMULATOR_HOST variables (the test runner's emulators) over the
  // endpoints they are given, so this process talks to the stack's only once they are gone.
  delete process.env.STORAGE_EMULATOR_HOST;
  delete process.env.FIRESTORE_EMULATOR_HOST;
  const storage = new Storage({ projectId: file.projectId, apiEndpoint: file.storage });
  await storage.bucket(file.buckets.uploads).file("hello.txt").save("hi", { resumable: false });
  const firestore = new Firestore({ projectId: file.projectId, host: file.firestore, ssl: false });
  const record = await waitFor(
    "files record of an upload",
    async () => {
      const found = await firestore.collection("files").where("name", "==", "hello.txt").get();
      return found.docs[0];
    },
    30_000,
  );
  assert.equal(record.get("processed"), true);
  assert.equal(record.get("bucket"), file.buckets.uploads);

  // Real sign-in: a user signed up with the stack's Auth emulator writes with its ID token,
  // and `./syncstack user add` gives a new user its profile through user-created.
  assert.match(file.auth, /^127\.0\.0\.1:\d+$/, "stack.json lists the Auth emulator");
  const alice = await signUp(file.auth, "alice@example.com", "secret-1");
  const written = await fetch(`${file.services.sync}/v1/sync`, {
    method: "POST",
    headers: { authorization: `Bearer ${alice.idToken}`, "content-type": "application/json" },
    body: JSON.stringify({ collection: "notes", document: "n1", data: { title: "hi" } }),
  });
  assert.equal(written.status, 200, await written.clone().text());
  assert.equal(((await written.json()) as { version: number }).version, 1);

  // The stack's collector holds the write's whole trace: sync's request and analytics' handling.
  assert.match(file.telemetry ?? "", /^http:\/\/127\.0\.0\.1:\d+$/, "stack.json lists it");
  const traceId = written.headers.get("x-trace-id");
  // Each service exports on its own schedule: wait for both parts, then look at the whole.
  const services = await waitFor(
    "the write's trace in the collector, with sync's and analytics' spans",
    async () => {
      const response = await fetch(`${file.telemetry}/api/traces/${traceId}`);
      if (!response.ok) return undefined;
      const trace = (await response.json()) as { spans: { service: string; name: string }[] };
      const names = new Set(trace.spans.map((span) => `${span.service}: ${span.name}`));
      return names.has("analytics: realtime-updates process") && names.has("sync: POST /v1/sync")
        ? names
        : undefined;
    },
    30_000,
  );
  assert.ok(services.has("sync: POST /v1/sync"), [...services].join(", "));
  const added = run([userCli, "add", "bob@example.com", "secret-2", "--admin", "--name", "Bob"], {
    SYNCSTACK_STATE_DIR: stateDir,
  });
  const [addCode] = await once(added.child, "exit");
  assert.equal(addCode, 0, added.output.join(""));
  const bobUid = /is uid (\S+) \(admin\); user-created published/.exec(added.output.join(""))?.[1];
  assert.ok(bobUid, added.output.join(""));
  const profile = await waitFor(
    "bob's profile",
    async () => {
      const snapshot = await firestore.collection("users").doc(bobUid).get();
      return snapshot.exists ? snapshot : undefined;
    },
    30_000,
  );
  assert.equal(profile.get("email"), "bob@example.com");
  assert.equal(profile.get("display_name"), "Bob");
  const again = run([userCli, "add", "bob@example.com", "secret-2"], {
    SYNCSTACK_STATE_DIR: stateDir,
  });
  const [againCode] = await once(again.child, "exit");
  assert.equal(againCode, 1);
  assert.match(again.output.join(""), /accounts:signUp answered 400: EMAIL_EXISTS/);
  await firestore.terminate();

  const triggered = run([trigger, "stats-tick"], { SYNCSTACK_STATE_DIR: stateDir });
  const [triggerCode] = await once(triggered.child, "exit");
  assert.equal(triggerCode, 0, triggered.output.join(""));
  assert.match(triggered.output.join(""), /published stats-tick message \d+/);
  const invalid = run([trigger, "stats-tick", '{"tick_at":"yesterday"}'], {
    SYNCSTACK_STATE_DIR: stateDir,
  });
  const [invalidCode] = await once(invalid.child, "exit");
  assert.equal(invalidCode, 2);
  assert.match(invalid.output.join(""), /tick_at/);

  // The demo app is served, and the sync service lets its pages call it (CORS).
  assert.match(file.app ?? "", /^http:\/\/127\.0\.0\.1:\d+$/, "stack.json lists the app");
  const page = await fetch(`${file.app}/`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<title>syncstack notes<\/title>/);
  const preflight = await fetch(`${file.services.sync}/v1/sync:batch`, {
    method: "OPTIONS",
    headers: {
      origin: file.app ?? "",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization,content-type,idempotency-key",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), file.app);
  assert.match(output.join(""), new RegExp(`notes app +${file.app}`));

  // The ops console is served, its page and its API, which refuses a caller without a token.
  assert.match(file.console ?? "", /^http:\/\/127\.0\.0\.1:\d+$/, "stack.json lists the console");
  const consolePage = await fetch(`${file.console}/dead-letters`);
  assert.equal(consolePage.status, 200);
  assert.match(await consolePage.text(), /<title>syncstack console<\/title>/);
  const refused = await fetch(`${file.console}/v1/console/topology`);
  assert.equal(refused.status, 401);
  assert.equal(
    ((await refused.json()) as { error: { code: string } }).error.code,
    "unauthenticated",
  );
  assert.match(output.join(""), new RegExp(`console +${file.console}`));

  const ports = [
    file.pubsub,
    file.firestore,
    file.auth,
    file.storage,
    file.app ?? "",
    file.telemetry ?? "",
    file.console ?? "",
    ...Object.values(file.services),
  ].map((url) => Number(url.split(":").pop()));
  child.kill("SIGTERM");
  const [code] = await exited;
  assert.equal(code, 0, output.join(""));
  assert.deepEqual(await processesUsing(ports), [], "no process is left behind");
  await assert.rejects(readFile(join(stateDir, "stack.json")), "stack.json is removed");
});

test("a port already taken stops the stack with a message naming it", async () => {
  const blocker = createServer();
  const port = await freePort();
  blocker.listen(port, "127.0.0.1");
  await once(blocker, "listening");
  try {
    const { child, output } = run([
      cli,
      "--free-ports",
      "--sync-port",
      String(port),
      "--state-dir",
      stateDir,
    ]);
    const [code] = await once(child, "exit");
    assert.equal(code, 1);
    assert.match(output.join(""), new RegExp(`port ${port} \\(sync service\\) is already in use`));
  } finally {
    blocker.close();
  }
});
