// Property-based fuzzing of every HTTP route and push endpoint of every service, in-process
// against the emulators: FUZZ_SEED=<n> reproduces a run, FUZZ_RUNS=<n> scales it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { deadLetterTopicName, type ServiceName, topicByName, topics } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import {
  type Collector,
  collectMessages,
  emulatorIdToken,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import fc from "fast-check";
import {
  closeServices,
  type ServiceUnderTest,
  startServices,
} from "../harness/services-under-test.ts";
import type { HttpCase } from "./http-case.ts";
import { type PushCase, pushCases } from "./push-case.ts";
import { fuzzUid, healthCases, routeModels, unknownRouteCases } from "./route-models.ts";
import { routeKey, routesOf } from "./routes-of.ts";
import { closeConnections, send } from "./send.ts";

const seed = Number(process.env.FUZZ_SEED ?? 20_240_608);
const scale = Number(process.env.FUZZ_RUNS ?? 1);
const minimumRequests = 5_000;
const limitBytes = 64 * 1_024;
const projectId = testProjectId();
const token = emulatorIdToken(projectId, fuzzUid, { admin: true });

let services: Record<ServiceName, ServiceUnderTest>;
const published = new Map<string, Collector>();

before(async () => {
  services = await startServices(projectId, { env: { BODY_LIMIT_BYTES: String(limitBytes) } });
  const { pubsub } = services.sync.context;
  await provisionTopology(pubsub, topics, { serviceUrls: {}, nativePolicies: false });
  for (const name of topics.flatMap((topic) => [topic.name, deadLetterTopicName(topic)])) {
    published.set(name, await collectMessages(pubsub, name, `fuzz-${name}`));
  }
});
after(async () => {
  closeConnections();
  await Promise.all([...published.values()].map((collector) => collector.close()));
  await closeServices(services);
});

/** What the accepted requests were allowed to change; everything else must stay untouched. */
const effects = {
  documents: new Set<string>(),
  events: new Map<string, number>(),
};
const count = (topic: string) => effects.events.set(topic, (effects.events.get(topic) ?? 0) + 1);
let sent = 0;

interface Plan {
  name: string;
  service: ServiceUnderTest;
  cases: fc.Arbitrary<HttpCase>;
  runs: number;
}

/** One plan per route each service serves; a route without a model fails the test. */
function plans(): Plan[] {
  const models = routeModels(limitBytes);
  const used = new Set<string>();
  const result: Plan[] = [];
  for (const service of Object.values(services)) {
    for (const route of routesOf(service.app)) {
      const name = `${service.name} ${routeKey(route)}`;
      const path = String(route.path);
      if (path === "/healthz" || path === "/readyz") {
        result.push({ name, service, cases: healthCases(path), runs: 40 });
      } else if (path.startsWith("/pubsub/")) {
        const topic = topicByName(path.slice("/pubsub/".length));
        result.push({ name, service, cases: pushCases(topic, service.name, projectId), runs: 300 });
      } else {
        const cases = models[name];
        assert.ok(cases, `${name} has no fuzz model: add one to tests/fuzz/route-models.ts`);
        used.add(name);
        result.push({ name, service, cases, runs: route.method === "GET" ? 450 : 650 });
      }
    }
    result.push({
      name: `${service.name} unknown routes`,
      service,
      cases: unknownRouteCases,
      runs: 50,
    });
  }
  for (const topic of topics) {
    for (const subscription of topic.subscriptions.filter((s) => s.delivery === "push")) {
      const name = `${subscription.service} POST /pubsub/${topic.name}`;
      assert.ok(
        result.some((plan) => plan.name === name),
        `${name} is not served`,
      );
    }
  }
  assert.deepEqual(
    Object.keys(models).filter((name) => !used.has(name)),
    [],
    "models of no route",
  );
  return result.map((plan) => ({ ...plan, runs: Math.ceil(plan.runs * scale) }));
}

/** Sends one case and checks the properties every answer must have. */
async function check(plan: Plan, generated: HttpCase): Promise<void> {
  sent++;
  const answer = await send(plan.service.url, generated, { authorization: `Bearer ${token}` });
  const what = `${plan.name}: ${generated.label}: ${answer.status} ${answer.text.slice(0, 300)}`;
  const { expect } = generated;
  if (expect.statuses) assert.ok(expect.statuses.includes(answer.status), what);
  else assert.ok(answer.status < 500, what);
  if (answer.status >= 400 && answer.status < 500) {
    assert.match(answer.contentType, /application\/json/, what);
    const error = (JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } })
      .error;
    assert.equal(typeof error?.code, "string", what);
    assert.equal(typeof error?.message, "string", what);
    assert.match(String(error?.message), expect.names, what);
    return;
  }
  if ((generated as PushCase).deadLetter) count(deadLetterTopicName(generated.path.slice(8)));
  if (answer.status < 300) recordAccepted(generated, answer.text);
}

/** Notes the writes and events an accepted request may cause. */
function recordAccepted(generated: HttpCase, text: string): void {
  if (!["POST", "PATCH", "DELETE"].includes(generated.method) || !text) return;
  const body = JSON.parse(text) as {
    collection?: string;
    document?: string;
    results?: { status: number; result: { collection: string; document: string } }[];
  };
  if (generated.path === "/v1/users") count("user-created");
  const writes = body.results?.filter((r) => r.status === 200).map((r) => r.result) ?? [body];
  for (const write of writes) {
    if (write.collection === undefined || write.document === undefined) continue;
    effects.documents.add(`${write.collection}/${write.document}`);
    count("realtime-updates");
  }
}

async function documentsInFirestore(): Promise<string[]> {
  const { firestore } = services.sync.context;
  const paths: string[] = [];
  for (const collection of await firestore.listCollections()) {
    for (const doc of await collection.listDocuments()) paths.push(doc.path);
  }
  return paths.sort();
}

test(`every route and push endpoint answers generated bad input without a 5xx, a crash or a stray write (seed ${seed})`, async (t) => {
  t.diagnostic(`fast-check seed ${seed}; FUZZ_SEED=${seed} reproduces this run`);
  const all = plans();
  await Promise.all(
    all.map((plan) =>
      fc.assert(
        fc.asyncProperty(plan.cases, (generated) => check(plan, generated)),
        // No shrinking: each step is requests to a service, and a failure is reproduced by its seed.
        { seed, numRuns: plan.runs, endOnFailure: true },
      ),
    ),
  );
  t.diagnostic(`${sent} requests to ${all.length} routes`);
  assert.ok(sent >= minimumRequests * Math.min(scale, 1), `only ${sent} requests were sent`);

  for (const service of Object.values(services)) {
    const health = await fetch(`${service.url}/healthz`);
    assert.equal(health.status, 200, `${service.name} still answers its health check`);
  }
  for (const [topic, collector] of published) {
    const expected = effects.events.get(topic) ?? 0;
    await waitFor(`${expected} messages on ${topic}`, () =>
      collector.messages.length >= expected ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(collector.messages.length, expected, `messages published to ${topic}`);
    if (topic.endsWith("-dead-letter")) {
      for (const message of collector.messages) {
        assert.match(message.attributes.dead_letter_reason ?? "", /payload|JSON|schema_version/);
      }
    }
  }
  const expectedDocs = [...effects.documents].sort();
  await waitFor("the outbox to drain", async () =>
    (await documentsInFirestore()).some((path) => path.startsWith("_outbox/")) ? undefined : true,
  );
  const stored = (await documentsInFirestore()).filter((path) => !path.startsWith("_"));
  assert.deepEqual(stored, expectedDocs, "Firestore holds exactly the accepted writes");
});
