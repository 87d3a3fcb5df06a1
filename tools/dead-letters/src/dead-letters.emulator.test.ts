// A poison message on every topic is dead-lettered with its reason, listed without being
// lost, and, once the consumer is fixed, replayed and processed exactly once.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { PubSub } from "@google-cloud/pubsub";
import { repoRoot } from "@syncstack/local-stack";
import {
  AppError,
  AttemptTracker,
  type Consumer,
  consumer,
  createApp,
  Publisher,
  pushRoutes,
  type ServiceName,
  serviceNames,
  type TopicSpec,
  topics,
  userCreated,
} from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import {
  emulatorHosts,
  listen,
  memoryLogger,
  samplePayload,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import { type DeadLetter, DeadLetterStore } from "./dead-letter-store.ts";

const projectId = testProjectId();
const pubsub = new PubSub({ projectId, apiEndpoint: emulatorHosts().pubsub, emulatorMode: true });
const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
const store = new DeadLetterStore(pubsub, topics);
const { logger } = memoryLogger(projectId);
const processed: string[] = [];
let fixed = false;
let stateDir: string;
const servers: Awaited<ReturnType<typeof listen>>[] = [];

/** Every push subscription of the registry, as `<service> <topic>`. */
const subscriptions = topics.flatMap((topic) =>
  topic.subscriptions.filter((s) => s.delivery === "push").map((s) => `${s.service} ${topic.name}`),
);

/** A stand-in for each service whose consumers refuse every message until `fixed`. */
function consumersOf(service: ServiceName): Consumer[] {
  return topics
    .filter((topic) =>
      topic.subscriptions.some((s) => s.service === service && s.delivery === "push"),
    )
    .map((topic) =>
      consumer(topic, async () => {
        if (!fixed) throw new AppError("invalid_argument", "not accepted before the fix");
        processed.push(`${service} ${topic.name}`);
      }),
    );
}

before(async () => {
  const serviceUrls: Partial<Record<ServiceName, string>> = {};
  for (const service of serviceNames) {
    const runtime = { service, publisher, attempts: new AttemptTracker(), logger };
    const app = createApp({
      name: service,
      logger,
      bodyLimitBytes: 1_048_576,
      routes: (routes) => routes.use(pushRoutes(consumersOf(service), runtime)),
    });
    const server = await listen(app);
    servers.push(server);
    serviceUrls[service] = server.url;
  }
  await provisionTopology(pubsub, topics, { serviceUrls, nativePolicies: false });
  stateDir = await mkdtemp(join(tmpdir(), "dead-letters-"));
  await writeFile(
    join(stateDir, "stack.json"),
    JSON.stringify({ projectId, pubsub: emulatorHosts().pubsub }),
  );
});
after(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await publisher.close();
  await store.close();
  await pubsub.close();
  await rm(stateDir, { recursive: true, force: true });
});

const cli = (...args: string[]) =>
  promisify(execFile)(
    process.execPath,
    ["--conditions=source", join(repoRoot, "tools/dead-letters/src/dead-letters-cli.ts"), ...args],
    { env: { ...process.env, SYNCSTACK_STATE_DIR: stateDir } },
  );

const sourceOf = (letter: DeadLetter) =>
  `${letter.sourceSubscription?.split("/").pop()?.replace(`-${letter.topic}`, "")} ${letter.topic}`;

test("poison messages on every topic are dead-lettered, listed, replayed after a fix and processed once", async () => {
  for (const topic of topics) {
    await publisher.publish(topic as TopicSpec, samplePayload(topic), {
      attributes: { eventType: "OBJECT_FINALIZE", origin: "test" },
    });
  }
  const letters = await waitFor(
    "a dead letter per push subscription",
    async () => {
      const found = await store.list();
      return found.length >= subscriptions.length ? found : undefined;
    },
    30_000,
  );
  assert.deepEqual(letters.map(sourceOf).sort(), [...subscriptions].sort());
  for (const letter of letters) {
    assert.equal(letter.reason, "not accepted before the fix");
    assert.equal(letter.attributes.origin, "test", "the original attributes are kept");
    assert.ok(!Object.keys(letter.attributes).some((key) => key.startsWith("dead_letter_")));
  }

  const listed = await cli("list", "--topic", "user-created", "--limit", "5");
  assert.match(listed.stdout, /user-created\/\S+ {2}\S+\n {2}reason: not accepted before the fix/);
  assert.match(listed.stdout, /2 dead letter\(s\)/);
  assert.equal((await store.list()).length, letters.length, "listing loses nothing");
  await assert.rejects(cli("replay"), (error: { code?: number }) => error.code === 2);

  fixed = true;
  const ids = letters.filter((letter) => letter.topic !== "stats-tick").map((letter) => letter.id);
  const replayed = await cli("replay", ...ids);
  assert.equal(replayed.stdout.trim().split("\n").length, ids.length);
  await cli("replay", "--topic", "stats-tick", "--all");
  await waitFor("every replay processed", () =>
    processed.length >= subscriptions.length ? true : undefined,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.deepEqual(processed.sort(), [...subscriptions].sort(), "each processed exactly once");
  assert.deepEqual(await store.list(), [], "replayed dead letters are removed");
});

test("a dropped dead letter is gone for good and never processed; the others stay", async () => {
  fixed = false;
  const before = processed.length;
  await publisher.publish(userCreated, { uid: "dropped-user", email: null });
  const letters = await waitFor(
    "the message dead-lettered by both consumers",
    async () => {
      const found = await store.list({ topics: ["user-created"] });
      return found.length >= 2 ? found : undefined;
    },
    30_000,
  );
  const [first, second] = letters as [DeadLetter, DeadLetter];
  await assert.rejects(cli("drop"), (error: { code?: number }) => error.code === 2);
  const dropped = await cli("drop", first.id);
  assert.equal(dropped.stdout, `dropped ${first.id}\n`);
  await assert.rejects(cli("drop", first.id), (error: { code?: number; stderr?: string }) => {
    assert.match(error.stderr ?? "", /not found: user-created\//);
    return error.code === 1;
  });
  assert.deepEqual(
    (await store.list()).map((letter) => letter.id),
    [second.id],
  );
  assert.deepEqual(
    (await store.drop((letter) => letter.id === second.id)).map((letter) => letter.id),
    [second.id],
  );
  assert.deepEqual(await store.list(), []);
  fixed = true;
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(processed.length, before, "nothing dropped was processed");
});
