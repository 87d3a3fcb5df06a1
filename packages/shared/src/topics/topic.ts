import type { z } from "zod";
import type { ServiceName } from "../registry/services.ts";

/** How Pub/Sub retries a message that was not acked (Pub/Sub's exponential backoff). */
export interface RetryPolicy {
  minBackoffSeconds: number;
  maxBackoffSeconds: number;
  /** After this many failed attempts the message goes to the dead-letter topic. */
  maxDeliveryAttempts: number;
}

/** One consuming service's subscription to a topic. */
export interface SubscriptionSpec {
  service: ServiceName;
  /** push: Pub/Sub POSTs to the service; pull: the service runs a streaming-pull worker. */
  delivery: "push" | "pull";
  ackDeadlineSeconds: number;
  /** A Pub/Sub filter on attributes; the shared layer applies it too (the emulator does not). */
  filter?: string;
  /**
   * Deliver messages of one ordering key in order. Costs throughput (one key at a time per
   * subscriber; the emulator slows sharply with many keys), so a consumer whose effects do
   * not depend on order (counters, max of timestamps) leaves it off.
   */
  ordered?: boolean;
  /** Streaming-pull flow control: messages handled at once by one instance. */
  maxInFlight?: number;
}

/** A scheduler job publishing to a topic (Cloud Scheduler in production). */
export interface ScheduleSpec<P> {
  cron: string;
  timeZone: string;
  /** What the local scheduler publishes for a run at `scheduledAt`. */
  payload: (scheduledAt: Date) => P;
  /**
   * The fixed message Cloud Scheduler publishes: it cannot put the run's time in, so the
   * time fields are left out and consumers take the message's publish time instead.
   */
  cloudPayload: P;
}

/** A topic as data: its payload schema and everything needed to provision and consume it. */
export interface TopicSpec<S extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  schema: S;
  schemaVersion: number;
  /** Messages with the same key are delivered in publish order. */
  orderingKey?: (payload: z.output<S>) => string;
  retry: RetryPolicy;
  /**
   * The services that publish to the topic: each gets the publisher role on it, and a test
   * checks that the services' code publishes to no other topic. Publishers outside the
   * services (Cloud Scheduler, bucket notifications, operators) are not listed.
   */
  publishers: readonly ServiceName[];
  subscriptions: readonly SubscriptionSpec[];
  schedule?: ScheduleSpec<z.input<S>>;
  /** What an operator's `pnpm trigger <topic>` publishes when given no payload. */
  manualPayload?: (now: Date) => z.input<S>;
}

/** The payload type a topic's consumers receive. */
export type PayloadOf<T extends TopicSpec> = z.output<T["schema"]>;

/** The attribute carrying the payload's schema version. */
export const schemaVersionAttribute = "schema_version";

/** The default retry policy: Pub/Sub's backoff bounds, five attempts before dead-lettering. */
export const defaultRetry: RetryPolicy = {
  minBackoffSeconds: 10,
  maxBackoffSeconds: 600,
  maxDeliveryAttempts: 5,
};

/** Declares a topic; a function so the payload type is inferred from the schema. */
export function defineTopic<S extends z.ZodType>(spec: TopicSpec<S>): TopicSpec<S> {
  return spec;
}

/** The topic a message goes to when it can never be processed. */
export function deadLetterTopicName(topic: TopicSpec | string): string {
  return `${typeof topic === "string" ? topic : topic.name}-dead-letter`;
}

/** The pull subscription that keeps dead letters until an operator reads or replays them. */
export function deadLetterSubscriptionName(topic: TopicSpec | string): string {
  return `${deadLetterTopicName(topic)}-sub`;
}

/** The subscription id of a service on a topic, e.g. `analytics-realtime-updates`. */
export function subscriptionName(topic: TopicSpec, service: ServiceName): string {
  return `${service}-${topic.name}`;
}

/** The path of a service's push endpoint for a topic. */
export function pushPath(topic: TopicSpec): string {
  return `/pubsub/${topic.name}`;
}
