import type { PubSub, Topic } from "@google-cloud/pubsub";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { z } from "zod";
import { withDeadline } from "../deadline.ts";
import { AppError } from "../errors.ts";
import { tracer } from "../telemetry.ts";
import { schemaVersionAttribute, type TopicSpec } from "../topics/topic.ts";
import { KeyedBatcher } from "./keyed-batcher.ts";

/** Messages without an ordering key may wait this long for others to share their request. */
const unkeyedBatchMs = 5;

export interface PublisherOptions {
  /** Deadline of one publish, batching window included. */
  deadlineMs: number;
}

export interface PublishOptions {
  attributes?: Record<string, string>;
  /**
   * How long a message with an ordering key may wait for others to share its request, for
   * callers that do not wait for the publish (0: it goes out at the end of this event-loop turn).
   */
  maxWaitMs?: number;
}

/**
 * Publishes validated, traced messages through long-lived batching publishers: one per topic
 * for unordered messages, one shared across keys for messages with ordering keys.
 */
export class Publisher {
  readonly #pubsub: PubSub;
  readonly #options: PublisherOptions;
  readonly #topics = new Map<string, Topic>();
  readonly #keyed: KeyedBatcher;

  constructor(pubsub: PubSub, options: PublisherOptions) {
    this.#pubsub = pubsub;
    this.#options = options;
    this.#keyed = new KeyedBatcher(pubsub, { deadlineMs: options.deadlineMs });
  }

  /**
   * Validates `payload` against the topic's schema (an invalid payload is a programming
   * error and throws), then publishes it with the schema version, ordering key and the
   * current W3C trace context. Resolves with the message id.
   */
  async publish<S extends z.ZodType>(
    topic: TopicSpec<S>,
    payload: z.input<S>,
    options: PublishOptions = {},
  ): Promise<string> {
    const parsed = topic.schema.safeParse(payload);
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (i) => `${i.path.join(".") || "(payload)"}: ${i.message}`,
      );
      throw new AppError("internal", `invalid ${topic.name} payload: ${problems.join("; ")}`, {
        retryable: false,
      });
    }
    const orderingKey = topic.orderingKey?.(parsed.data);
    const attributes = {
      ...options.attributes,
      [schemaVersionAttribute]: String(topic.schemaVersion),
    };
    return this.publishRaw(
      topic.name,
      Buffer.from(JSON.stringify(parsed.data)),
      attributes,
      orderingKey,
      options.maxWaitMs,
    );
  }

  /** Publishes bytes as they are (dead letters, replays); still traced and deadline-bound. */
  async publishRaw(
    topicName: string,
    data: Buffer,
    attributes: Record<string, string>,
    orderingKey?: string,
    maxWaitMs = 0,
  ): Promise<string> {
    const span = tracer().startSpan(`${topicName} publish`, {
      kind: SpanKind.PRODUCER,
      attributes: { "messaging.system": "gcp_pubsub", "messaging.destination.name": topicName },
    });
    const traced = { ...attributes };
    propagation.inject(trace.setSpan(context.active(), span), traced);
    try {
      const id = await withDeadline(`pubsub.publish ${topicName}`, this.#options.deadlineMs, () =>
        orderingKey
          ? this.#keyed.publish(topicName, data, traced, orderingKey, maxWaitMs)
          : this.#topic(topicName).publishMessage({ data, attributes: traced }),
      );
      span.setAttribute("messaging.message.id", id);
      return id;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error instanceof AppError
        ? error
        : new AppError("unavailable", `publishing to ${topicName} failed`, { cause: error });
    } finally {
      span.end();
    }
  }

  /** Sends every batched message now. */
  async flush(): Promise<void> {
    await Promise.all([
      ...[...this.#topics.values()].map((topic) => topic.flush()),
      this.#keyed.flush(),
    ]);
  }

  /** Flushes and releases the publisher's own client. */
  async close(): Promise<void> {
    await this.flush();
    await this.#keyed.close();
  }

  #topic(name: string): Topic {
    let topic = this.#topics.get(name);
    if (!topic) {
      topic = this.#pubsub.topic(name, {
        batching: { maxMessages: 100, maxMilliseconds: unkeyedBatchMs },
      });
      this.#topics.set(name, topic);
    }
    return topic;
  }
}
