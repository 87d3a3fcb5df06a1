import {
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from "@opentelemetry/api";
import { AppError, describeError, isRetryable } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { instruments } from "../metrics.ts";
import type { ServiceName } from "../registry/services.ts";
import { tracer } from "../telemetry.ts";
import {
  deadLetterTopicName,
  type PayloadOf,
  type SubscriptionSpec,
  schemaVersionAttribute,
  type TopicSpec,
} from "../topics/topic.ts";
import type { AttemptTracker } from "./attempts.ts";
import { type AttributeFilter, compileFilter } from "./filter.ts";
import type { Publisher } from "./publisher.ts";

/** A message as a handler sees it: validated payload plus its delivery facts. */
export interface ReceivedMessage<T> {
  id: string;
  topic: string;
  subscription: string;
  data: T;
  attributes: Readonly<Record<string, string>>;
  publishTime: Date;
  deliveryAttempt: number;
  orderingKey: string | undefined;
  logger: Logger;
}

/** Handles one message; throw a retryable error to be retried, a permanent one to dead-letter. */
export type MessageHandler<T> = (message: ReceivedMessage<T>) => Promise<void>;

/** A service's handler for one topic. */
export interface Consumer<T extends TopicSpec = TopicSpec> {
  topic: T;
  handle: MessageHandler<PayloadOf<T>>;
}

/** Declares a consumer; a function so the handler's payload type comes from the topic. */
export function consumer<T extends TopicSpec>(
  topic: T,
  handle: MessageHandler<PayloadOf<T>>,
): Consumer<T> {
  return { topic, handle };
}

/** What a transport (push or pull) delivered, before decoding. */
export interface Delivery {
  messageId: string;
  subscription: string;
  data: Buffer;
  attributes: Record<string, string>;
  publishTime: Date;
  orderingKey: string | undefined;
  /** As Pub/Sub reports it; absent (or 0) where it does not. */
  deliveryAttempt: number | undefined;
}

/** The transport's answer: ack, or nack so Pub/Sub redelivers. */
export type Outcome = "ack" | "nack";

export interface ConsumerRuntime {
  service: ServiceName;
  publisher: Publisher;
  attempts: AttemptTracker;
  logger: Logger;
}

/** Attributes added to a dead-lettered copy, beside the original ones. */
export const deadLetterAttributes = {
  reason: "dead_letter_reason",
  subscription: "dead_letter_source_subscription",
  messageId: "dead_letter_source_message_id",
  attempt: "dead_letter_delivery_attempt",
  at: "dead_letter_at",
  orderingKey: "dead_letter_ordering_key",
} as const;

/**
 * Set on a replayed dead letter: the subscription (its id) that failed it. A replay goes to
 * the topic, so the other subscriptions of the topic, which processed the message the first
 * time, ack it without processing.
 */
export const replayAttribute = "replay_subscription";

/** The subscription id of a full name (`projects/p/subscriptions/id`) or of an id. */
export function subscriptionId(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

/**
 * Turns deliveries for one consumer into outcomes, the same for push and pull: filter,
 * attempt counting and backoff where Pub/Sub lacks them, trace continuation, decoding and
 * validation, the handler, and dead-lettering of what can never succeed.
 */
export function createDeliveryProcessor(
  target: Consumer,
  subscription: SubscriptionSpec,
  runtime: ConsumerRuntime,
): (delivery: Delivery) => Promise<Outcome> {
  const { topic } = target;
  const filter: AttributeFilter | undefined = subscription.filter
    ? compileFilter(subscription.filter)
    : undefined;
  const logger = runtime.logger.child({ topic: topic.name, service: runtime.service });

  return async (delivery) => {
    if (filter && !filter(delivery.attributes)) return "ack";
    const replayFor = delivery.attributes[replayAttribute];
    if (replayFor && replayFor !== subscriptionId(delivery.subscription)) return "ack";
    const key = `${delivery.subscription}/${delivery.messageId}`;
    const reported = delivery.deliveryAttempt || undefined;
    const tracked = reported === undefined ? runtime.attempts.begin(key) : undefined;
    if (tracked && tracked.waitMs > 0) return "nack";
    const attempt = reported ?? tracked?.attempt ?? 1;

    const extracted = propagation.extract(context.active(), delivery.attributes);
    // Under the push request's span when it continues the message's trace already.
    const pushSpan = trace.getSpanContext(context.active());
    const parent =
      pushSpan && pushSpan.traceId === trace.getSpanContext(extracted)?.traceId
        ? context.active()
        : extracted;
    const span = tracer().startSpan(
      `${topic.name} process`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "gcp_pubsub",
          "messaging.destination.name": topic.name,
          "messaging.destination.subscription.name": subscriptionId(delivery.subscription),
          "messaging.message.id": delivery.messageId,
          "syncstack.service": runtime.service,
          "messaging.gcp_pubsub.message.delivery_attempt": attempt,
        },
      },
      parent,
    );
    const labels = { subscription: subscriptionId(delivery.subscription), topic: topic.name };
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1_000;
    return context.with(trace.setSpan(parent, span), async () => {
      let messageLogger = logger.child({ messageId: delivery.messageId, attempt });
      try {
        const data = decode(topic, delivery);
        const about = messageFacts(data);
        for (const [key, value] of Object.entries(about))
          span.setAttribute(`syncstack.${key}`, value);
        messageLogger = messageLogger.child(about);
        instruments().eventLag.record(
          Math.max(0, Date.now() - eventTime(data, delivery.publishTime)) / 1_000,
          labels,
        );
        await target.handle({
          id: delivery.messageId,
          topic: topic.name,
          subscription: delivery.subscription,
          data,
          attributes: delivery.attributes,
          publishTime: delivery.publishTime,
          deliveryAttempt: attempt,
          orderingKey: delivery.orderingKey,
          logger: messageLogger,
        });
        runtime.attempts.settled(key);
        instruments().messagesHandled.add(1, labels);
        instruments().handlerDuration.record(elapsed(), { ...labels, outcome: "ack" });
        return "ack";
      } catch (error) {
        return await failed(error, span, messageLogger);
      } finally {
        span.end();
      }
    });

    async function failed(error: unknown, span: Span, log: Logger): Promise<Outcome> {
      span.recordException(error instanceof Error ? error : new Error(String(error)));
      span.setStatus({ code: SpanStatusCode.ERROR });
      instruments().messagesFailed.add(1, labels);
      const exhausted = attempt >= topic.retry.maxDeliveryAttempts;
      if (isRetryable(error) && !exhausted) {
        instruments().handlerDuration.record(elapsed(), { ...labels, outcome: "retry" });
        log.warn("message failed, will be retried", { error });
        if (tracked) runtime.attempts.failed(key, attempt, topic.retry);
        return "nack";
      }
      const reason = isRetryable(error)
        ? `gave up after ${attempt} attempts: ${publicReason(error)}`
        : publicReason(error);
      try {
        await runtime.publisher.publishRaw(deadLetterTopicName(topic), delivery.data, {
          ...delivery.attributes,
          [deadLetterAttributes.reason]: reason.slice(0, 1_024),
          [deadLetterAttributes.subscription]: delivery.subscription,
          [deadLetterAttributes.messageId]: delivery.messageId,
          [deadLetterAttributes.attempt]: String(attempt),
          [deadLetterAttributes.at]: new Date().toISOString(),
          ...(delivery.orderingKey
            ? { [deadLetterAttributes.orderingKey]: delivery.orderingKey }
            : {}),
        });
      } catch (publishError) {
        log.error("dead-lettering failed, message will be retried", {
          error: publishError,
          reason,
        });
        return "nack";
      }
      log.error("message dead-lettered", { reason, error });
      instruments().messagesDeadLettered.add(1, labels);
      instruments().handlerDuration.record(elapsed(), { ...labels, outcome: "dead_letter" });
      runtime.attempts.settled(key);
      return "ack";
    }
  };
}

function decode<T extends TopicSpec>(topic: T, delivery: Delivery): PayloadOf<T> {
  const version = Number(delivery.attributes[schemaVersionAttribute] ?? topic.schemaVersion);
  if (!Number.isInteger(version) || version > topic.schemaVersion) {
    throw permanent(
      `unsupported ${schemaVersionAttribute} ${delivery.attributes[schemaVersionAttribute]}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(delivery.data.toString("utf8"));
  } catch {
    throw permanent("message data is not valid JSON");
  }
  const parsed = topic.schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join(".") || "(payload)"}: ${i.message}`,
    );
    throw permanent(`invalid ${topic.name} payload: ${problems.join("; ")}`);
  }
  return parsed.data as PayloadOf<T>;
}

/** What a message is about, for its logs and span: the fields of those names it carries. */
function messageFacts(data: unknown): Record<string, string> {
  const facts: Record<string, string> = {};
  if (typeof data !== "object" || data === null) return facts;
  for (const name of ["collection", "document", "uid"] as const) {
    const value = (data as Record<string, unknown>)[name];
    if (typeof value === "string" && value !== "") facts[name] = value;
  }
  return facts;
}

/** When the event happened: its own `timestamp` (a change's commit time), else its publish time. */
function eventTime(data: unknown, publishTime: Date): number {
  const stamp = (data as { timestamp?: unknown } | null)?.timestamp;
  const parsed = typeof stamp === "string" ? Date.parse(stamp) : Number.NaN;
  return Number.isNaN(parsed) ? publishTime.getTime() : parsed;
}

function permanent(message: string): AppError {
  return new AppError("invalid_argument", message);
}

function publicReason(error: unknown): string {
  return error instanceof AppError ? error.message : describeError(error);
}
