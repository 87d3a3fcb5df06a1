import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { FieldValue } from "@google-cloud/firestore";
import { context, trace } from "@opentelemetry/api";
import { z } from "zod";
import { AppError } from "../errors.ts";
import { applyOnce } from "../idempotency.ts";
import { createServiceApp, createServiceContext } from "../service.ts";
import { setupTelemetry, tracer } from "../telemetry.ts";
import {
  listen,
  memoryLogger,
  resetFirestore,
  testConfig,
  testProjectId,
  waitFor,
} from "../testing/index.ts";
import { deadLetterSubscriptionName, defineTopic, type TopicSpec } from "../topics/topic.ts";
import { type Consumer, consumer, deadLetterAttributes, type ReceivedMessage } from "./consumer.ts";
import { provisionTopology } from "./provision.ts";
import { startPullConsumer } from "./pull.ts";

const telemetry = setupTelemetry({ serviceName: "pubsub-test", exporter: "memory" });
const projectId = testProjectId();
const { logger, entries: logs } = memoryLogger(projectId);
const ctx = createServiceContext("analytics", testConfig(projectId), { logger });
const retry = { minBackoffSeconds: 1, maxBackoffSeconds: 2, maxDeliveryAttempts: 3 };
const payloadSchema = z.object({ id: z.string(), n: z.number().int() });

function testTopic(name: string, delivery: "push" | "pull", filter?: string) {
  return defineTopic({
    name,
    description: "test topic",
    schema: payloadSchema,
    schemaVersion: 1,
    retry,
    publishers: ["analytics"],
    subscriptions: [
      { service: "analytics", delivery, ackDeadlineSeconds: 10, ...(filter ? { filter } : {}) },
    ],
  });
}

/** Records what a handler saw; `behaviour` decides what it does per call. */
function recorder<T extends TopicSpec>(
  topic: T,
  behaviour: (
    message: ReceivedMessage<z.infer<typeof payloadSchema>>,
    call: number,
  ) => Promise<void> = async () => {},
) {
  const seen: ReceivedMessage<z.infer<typeof payloadSchema>>[] = [];
  const calledAt: number[] = [];
  const target = consumer(topic, async (message) => {
    calledAt.push(Date.now());
    seen.push(message as ReceivedMessage<z.infer<typeof payloadSchema>>);
    await behaviour(message as ReceivedMessage<z.infer<typeof payloadSchema>>, seen.length);
  }) as Consumer;
  return { seen, calledAt, target };
}

async function deadLetters(topic: TopicSpec, expected: number) {
  const subscription = ctx.pubsub.subscription(deadLetterSubscriptionName(topic));
  const received: { data: string; attributes: Record<string, string> }[] = [];
  subscription.on("message", (message) => {
    received.push({ data: message.data.toString(), attributes: message.attributes });
    message.ack();
  });
  try {
    await waitFor(`${expected} dead letters on ${topic.name}`, () =>
      received.length >= expected ? true : undefined,
    );
  } finally {
    await subscription.close();
  }
  return received;
}

describe("Pub/Sub delivery through the shared layer", () => {
  const push = testTopic("push-things", "push");
  const pushFlaky = testTopic("flaky-things", "push");
  const pushDoomed = testTopic("doomed-things", "push");
  const pushFiltered = testTopic("filtered-things", "push", 'attributes.kind = "keep"');
  const pushOnce = testTopic("once-things", "push");
  const pull = testTopic("pulled-things", "pull");
  const registry = [push, pushFlaky, pushDoomed, pushFiltered, pushOnce, pull];

  const handlers = {
    push: recorder(push),
    flaky: recorder(pushFlaky, async (_m, call) => {
      if (call < 3) throw new AppError("unavailable", "dependency down");
    }),
    doomed: recorder(pushDoomed, async () => {
      throw new AppError("unavailable", "never comes back");
    }),
    filtered: recorder(pushFiltered),
    once: recorder(pushOnce, async (message, call) => {
      await applyOnce(
        ctx.firestore,
        `test/${message.id}`,
        async (transaction) => {
          transaction.set(
            ctx.firestore.doc("counters/once"),
            { n: FieldValue.increment(1) },
            { merge: true },
          );
        },
        { deadlineMs: 10_000 },
      );
      // The effect committed but the ack is lost: Pub/Sub redelivers the message.
      if (call === 1) throw new AppError("unavailable", "crashed after commit");
    }),
    pull: recorder(pull),
  };
  let server: Awaited<ReturnType<typeof listen>>;
  let pulling: ReturnType<typeof startPullConsumer>;

  before(async () => {
    const consumers = Object.values(handlers).map((h) => h.target);
    const app = createServiceApp(ctx, { consumers });
    server = await listen(app);
    await provisionTopology(ctx.pubsub, registry, {
      serviceUrls: { analytics: server.url },
      nativePolicies: false,
    });
    pulling = startPullConsumer(ctx.pubsub, handlers.pull.target, { ...ctx, service: "analytics" });
  });
  after(async () => {
    await pulling.close();
    await server.close();
    await ctx.pubsub.close();
    await ctx.firestore.terminate();
  });
  beforeEach(() => resetFirestore(projectId));

  test("a published message reaches its push handler, continuing the publisher's trace", async () => {
    const publishSpan = tracer().startSpan("test publisher");
    await context.with(trace.setSpan(context.active(), publishSpan), () =>
      ctx.publisher.publish(push, { id: "a", n: 1 }),
    );
    publishSpan.end();
    const message = await waitFor("push delivery", () => handlers.push.seen[0]);
    assert.deepEqual(message.data, { id: "a", n: 1 });
    assert.equal(message.deliveryAttempt, 1);
    assert.equal(message.attributes.schema_version, "1");
    const processSpan = await waitFor("process span", () =>
      telemetry.memory?.getFinishedSpans().find((s) => s.name === "push-things process"),
    );
    assert.equal(processSpan.spanContext().traceId, publishSpan.spanContext().traceId);
  });

  test("a published message reaches its handler through streaming pull", async () => {
    await ctx.publisher.publish(pull, { id: "p", n: 2 });
    const message = await waitFor("pull delivery", () => handlers.pull.seen[0]);
    assert.deepEqual(message.data, { id: "p", n: 2 });
    assert.ok(message.subscription.endsWith("/analytics-pulled-things"));
  });

  test("an invalid message is acked into the dead-letter topic with its reason, never redelivered", async () => {
    await ctx.publisher.publishRaw(push.name, Buffer.from(JSON.stringify({ id: 7 })), {});
    await ctx.publisher.publishRaw(push.name, Buffer.from("{not json"), {});
    const letters = await deadLetters(push, 2);
    const reasons = letters.map((l) => l.attributes[deadLetterAttributes.reason]).sort();
    assert.match(reasons[0] ?? "", /invalid push-things payload: id: .*n: /);
    assert.equal(reasons[1], "message data is not valid JSON");
    assert.ok(
      letters.some((l) => l.data === "{not json"),
      "the original bytes are kept for replay",
    );
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const deadLettered = logs.filter(
      (entry) => entry.message === "message dead-lettered" && entry.topic === push.name,
    );
    assert.equal(deadLettered.length, 2, "each invalid message was handled exactly once");
    assert.deepEqual(
      handlers.push.seen.map((m) => m.data.id),
      ["a"],
      "the handler saw only the valid message of the first test",
    );
  });

  test("a retryable failure is retried with backoff and then succeeds", async () => {
    await ctx.publisher.publish(pushFlaky, { id: "f", n: 3 });
    await waitFor(
      "third attempt",
      () => (handlers.flaky.seen.length >= 3 ? true : undefined),
      20_000,
    );
    const attempts = handlers.flaky.seen.map((m) => m.deliveryAttempt);
    assert.deepEqual(attempts, [1, 2, 3]);
    const [first, second, third] = handlers.flaky.calledAt;
    assert.ok((second ?? 0) - (first ?? 0) >= 900, "first retry waits the minimum backoff (1 s)");
    assert.ok((third ?? 0) - (second ?? 0) >= 1_900, "second retry waits twice as long (2 s)");
  });

  test("a message that keeps failing is dead-lettered after the policy's attempts", async () => {
    await ctx.publisher.publish(pushDoomed, { id: "d", n: 4 });
    const [letter] = await deadLetters(pushDoomed, 1);
    assert.equal(
      letter?.attributes[deadLetterAttributes.reason],
      "gave up after 3 attempts: never comes back",
    );
    assert.equal(letter?.attributes[deadLetterAttributes.attempt], "3");
    assert.equal(handlers.doomed.seen.length, 3);
  });

  test("a subscription filter the emulator ignores is applied by the shared layer", async () => {
    await ctx.publisher.publish(
      pushFiltered,
      { id: "skip", n: 0 },
      { attributes: { kind: "drop" } },
    );
    await ctx.publisher.publish(
      pushFiltered,
      { id: "keep", n: 1 },
      { attributes: { kind: "keep" } },
    );
    await waitFor("kept message", () => handlers.filtered.seen.find((m) => m.data.id === "keep"));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      handlers.filtered.seen.map((m) => m.data.id),
      ["keep"],
    );
  });

  test("a redelivered message applies its effect once", async () => {
    await ctx.publisher.publish(pushOnce, { id: "o", n: 5 });
    await waitFor("redelivery", () => (handlers.once.seen.length >= 2 ? true : undefined), 20_000);
    const counter = await ctx.firestore.doc("counters/once").get();
    assert.equal(counter.get("n"), 1);
  });
});
