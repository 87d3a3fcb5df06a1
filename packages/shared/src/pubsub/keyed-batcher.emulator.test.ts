import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Message, PubSub } from "@google-cloud/pubsub";
import { emulatorHosts, testProjectId, waitFor } from "../testing/index.ts";
import { KeyedBatcher } from "./keyed-batcher.ts";

const projectId = testProjectId();
const pubsub = new PubSub({ projectId, apiEndpoint: emulatorHosts().pubsub, emulatorMode: true });
const topicName = "keyed-things";

/** Resolves with how many of `promises` had settled once the current event-loop turn ended. */
function settledThisTurn(promises: Promise<unknown>[]): Promise<number> {
  let settled = 0;
  for (const promise of promises) void promise.then(() => settled++);
  return new Promise((resolve) => setImmediate(() => resolve(settled)));
}

/** Waits for the first of `promises` to settle, then counts how many settled in that same turn. */
async function settledWithFirst(promises: Promise<unknown>[]): Promise<number> {
  await Promise.race(promises);
  return settledThisTurn(promises);
}

describe("KeyedBatcher", () => {
  const received: { key: string; n: number }[] = [];
  let subscription: ReturnType<PubSub["subscription"]>;
  const batcher = new KeyedBatcher(pubsub, { deadlineMs: 10_000 });
  const publish = (key: string, n: number, maxWaitMs: number) =>
    batcher.publish(topicName, Buffer.from(JSON.stringify({ n })), {}, key, maxWaitMs);

  before(async () => {
    const [topic] = await pubsub.createTopic(topicName);
    [subscription] = await topic.createSubscription("keyed-things-all", {
      enableMessageOrdering: true,
    });
    subscription.on("message", (message: Message) => {
      received.push({ key: message.orderingKey ?? "", n: JSON.parse(message.data.toString()).n });
      message.ack();
    });
  });
  after(async () => {
    await batcher.close();
    await subscription.close();
    await pubsub.close();
  });

  test("messages that may wait go out together when the first one's wait ends", async () => {
    const started = performance.now();
    const first = publish("a/1", 1, 300);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const rest = [publish("a/2", 2, 5_000), publish("a/3", 3, 5_000), publish("a/1", 4, 5_000)];
    // a/1's second message waits behind its first, as order per key demands.
    assert.equal(await settledWithFirst([first, ...rest.slice(0, 2)]), 3, "one request");
    assert.ok(performance.now() - started >= 250, "the first message waited for company");
    await rest[2];
    await waitFor("all four delivered", () => (received.length >= 4 ? true : undefined));
    const a1 = received.filter((m) => m.key === "a/1").map((m) => m.n);
    assert.deepEqual(a1, [1, 4], "one key's messages arrive in publish order");
  });

  test("a message that cannot wait takes the waiting ones along at once", async () => {
    const started = performance.now();
    const patient = publish("b/1", 1, 60_000);
    const urgent = publish("b/2", 2, 0);
    assert.equal(await settledWithFirst([patient, urgent]), 2, "one request");
    assert.ok(performance.now() - started < 30_000, "the patient message did not wait its minute");
  });
});
