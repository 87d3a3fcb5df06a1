import { type PubSub, v1 } from "@google-cloud/pubsub";
import {
  deadLetterAttributes,
  deadLetterSubscriptionName,
  type Publisher,
  replayAttribute,
  subscriptionId,
  type TopicSpec,
} from "@syncstack/shared";

/** A message kept by a `<topic>-dead-letter-sub` subscription. */
export interface DeadLetter {
  /** `<topic>/<message id on the dead-letter topic>`: what `replay` takes. */
  id: string;
  topic: string;
  publishTime: Date;
  reason: string;
  /** The subscription that gave up on it, when known. */
  sourceSubscription: string | undefined;
  /** The attributes the message was first published with. */
  attributes: Record<string, string>;
  orderingKey: string | undefined;
  data: Buffer;
}

/** Attributes Pub/Sub adds when it dead-letters a message itself (production's backstop). */
const nativePrefix = "CloudPubSubDeadLetter";
const bookkeeping = new Set<string>([...Object.values(deadLetterAttributes), replayAttribute]);
const pullBatch = 1_000;

interface Held {
  letter: DeadLetter;
  ackId: string;
}

/**
 * Reads and replays dead letters where Pub/Sub keeps them. Reading pulls every message of a
 * dead-letter subscription and holds its lease while the operation runs, then gives back
 * (nacks) what it did not replay, so listing never loses a message.
 */
export class DeadLetterStore {
  readonly #pubsub: PubSub;
  readonly #topics: readonly TopicSpec[];
  #client: v1.SubscriberClient | undefined;

  constructor(pubsub: PubSub, topics: readonly TopicSpec[]) {
    this.#pubsub = pubsub;
    this.#topics = topics;
  }

  /** The dead letters of the topics (all when none given), oldest first, at most `limit`. */
  async list(options: { topics?: readonly string[]; limit?: number } = {}): Promise<DeadLetter[]> {
    const held = await this.#pullAll(options.topics);
    try {
      return held.map((entry) => entry.letter).slice(0, options.limit ?? Number.POSITIVE_INFINITY);
    } finally {
      await this.#release(held);
    }
  }

  /**
   * Republishes the chosen dead letters to their original topic, with their original
   * attributes and ordering key, addressed to the subscription that failed them, and then
   * removes them. Returns what was replayed; ids not found are reported by the caller.
   */
  async replay(
    publisher: Publisher,
    choose: (letter: DeadLetter) => boolean,
    topics?: readonly string[],
  ): Promise<DeadLetter[]> {
    const held = await this.#pullAll(topics);
    const chosen = held.filter((entry) => choose(entry.letter));
    const replayed: Held[] = [];
    try {
      for (const entry of chosen) {
        const { letter } = entry;
        await publisher.publishRaw(
          letter.topic,
          letter.data,
          {
            ...letter.attributes,
            ...(letter.sourceSubscription
              ? { [replayAttribute]: subscriptionId(letter.sourceSubscription) }
              : {}),
          },
          letter.orderingKey,
        );
        replayed.push(entry);
      }
    } finally {
      await this.#acknowledge(replayed);
      await this.#release(held.filter((entry) => !replayed.includes(entry)));
    }
    return replayed.map((entry) => entry.letter);
  }

  /**
   * Removes the chosen dead letters for good, without replaying them (an operator decided they
   * must never be processed). Returns what was dropped; ids not found are reported by the caller.
   */
  async drop(
    choose: (letter: DeadLetter) => boolean,
    topics?: readonly string[],
  ): Promise<DeadLetter[]> {
    const held = await this.#pullAll(topics);
    const chosen = held.filter((entry) => choose(entry.letter));
    try {
      await this.#acknowledge(chosen);
    } finally {
      await this.#release(held.filter((entry) => !chosen.includes(entry)));
    }
    return chosen.map((entry) => entry.letter);
  }

  /** Closes the subscriber client. */
  async close(): Promise<void> {
    await this.#client?.close();
  }

  async #subscriber(): Promise<v1.SubscriberClient> {
    const config = await this.#pubsub.getClientConfig();
    this.#client ??= new v1.SubscriberClient(
      config as ConstructorParameters<typeof v1.SubscriberClient>[0],
    );
    return this.#client;
  }

  #path(topic: string): string {
    return `projects/${this.#pubsub.projectId}/subscriptions/${deadLetterSubscriptionName(topic)}`;
  }

  async #pullAll(names?: readonly string[]): Promise<Held[]> {
    const client = await this.#subscriber();
    const topics = names ?? this.#topics.map((topic) => topic.name);
    const held: Held[] = [];
    for (const topic of topics) {
      const seen = new Set<string>();
      for (let empty = 0; empty < 2; ) {
        const [response] = await client.pull({
          subscription: this.#path(topic),
          maxMessages: pullBatch,
          returnImmediately: true,
        });
        const received = response.receivedMessages ?? [];
        if (received.length === 0) empty++;
        for (const { ackId, message } of received) {
          if (!ackId || !message?.messageId || seen.has(message.messageId)) continue;
          seen.add(message.messageId);
          held.push({
            ackId: `${topic}\n${ackId}`,
            letter: toDeadLetter(topic, message as PulledMessage),
          });
        }
      }
    }
    return held.sort((a, b) => a.letter.publishTime.getTime() - b.letter.publishTime.getTime());
  }

  async #release(held: Held[]): Promise<void> {
    await this.#settle(held, (client, subscription, ackIds) =>
      client.modifyAckDeadline({ subscription, ackIds, ackDeadlineSeconds: 0 }),
    );
  }

  async #acknowledge(held: Held[]): Promise<void> {
    await this.#settle(held, (client, subscription, ackIds) =>
      client.acknowledge({ subscription, ackIds }),
    );
  }

  async #settle(
    held: Held[],
    settle: (
      client: v1.SubscriberClient,
      subscription: string,
      ackIds: string[],
    ) => Promise<unknown>,
  ): Promise<void> {
    const client = await this.#subscriber();
    const byTopic = new Map<string, string[]>();
    for (const { ackId } of held) {
      const [topic = "", id = ""] = ackId.split("\n");
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), id]);
    }
    for (const [topic, ackIds] of byTopic) {
      for (let start = 0; start < ackIds.length; start += pullBatch) {
        await settle(client, this.#path(topic), ackIds.slice(start, start + pullBatch));
      }
    }
  }
}

/** The fields of a pulled message this store reads. */
interface PulledMessage {
  messageId?: string | null;
  data?: Uint8Array | string | null;
  attributes?: Record<string, string> | null;
  publishTime?: {
    seconds?: number | string | { toString(): string } | null;
    nanos?: number | null;
  } | null;
}

function toDeadLetter(topic: string, message: PulledMessage): DeadLetter {
  const all = { ...(message.attributes ?? {}) } as Record<string, string>;
  const seconds = Number(String(message.publishTime?.seconds ?? 0));
  const nanos = message.publishTime?.nanos ?? 0;
  return {
    id: `${topic}/${message.messageId}`,
    topic,
    publishTime: new Date(seconds * 1_000 + Math.floor(nanos / 1e6)),
    reason:
      all[deadLetterAttributes.reason] ??
      `Pub/Sub gave up after ${all[`${nativePrefix}SourceDeliveryCount`] ?? "?"} attempts`,
    sourceSubscription:
      all[deadLetterAttributes.subscription] ?? all[`${nativePrefix}SourceSubscription`],
    attributes: Object.fromEntries(
      Object.entries(all).filter(([key]) => !bookkeeping.has(key) && !key.startsWith(nativePrefix)),
    ),
    orderingKey: all[deadLetterAttributes.orderingKey],
    data:
      typeof message.data === "string"
        ? Buffer.from(message.data, "base64")
        : Buffer.from(message.data ?? new Uint8Array()),
  };
}
