import type { z } from "zod";

/** The services that consume topics, each a Cloud Run service of its own. */
export const serviceNames = ["sync", "files", "backup", "analytics"] as const;
export type ServiceName = (typeof serviceNames)[number];

/**
 * V8 options a service runs with, wherever it runs (image, local stack, benchmarks). The
 * backup service streams whole collections: V8 would otherwise grow its young generation to
 * 2 x 64 MiB under that churn, a fixed but large step in RSS; 16 MiB semi-spaces keep a
 * 100,000-document export within a few MiB of a 10,000-document one at the same speed.
 * The files service streams megabytes per file: with 16 MiB semi-spaces its garbage
 * collection cost about 20 ms of CPU less per 12-megapixel JPEG (117-123 -> 97-98 ms a file,
 * peak RSS 337 -> 315 MiB); 32 MiB was slower again and passed 400 MiB.
 */
export const serviceNodeOptions: Readonly<Record<ServiceName, string>> = {
  sync: "",
  files: "--max-semi-space-size=16",
  backup: "--max-semi-space-size=16",
  analytics: "",
};

/**
 * V8 flags a service sets on itself as it starts (`v8.setFlagsFromString`), for flags Node does
 * not take in NODE_OPTIONS, which is how the image passes `serviceNodeOptions`. V8 lets the old
 * generation grow to several times what survived the last full collection before it collects
 * again; the files service promotes ~200 KiB a file (request and client objects that outlive
 * two young collections while a file is processed), so its heap swung between 70 and 215 MiB
 * and its RSS passed 400 MiB. Growing by half instead holds the heap under ~100 MiB and RSS
 * near 240 MiB, for a full collection every few hundred files.
 */
export const serviceRuntimeV8Flags: Readonly<Record<ServiceName, string>> = {
  sync: "",
  files: "--heap-growing-percent=50",
  backup: "",
  analytics: "",
};

/**
 * Environment a service's process runs with, wherever it runs (Cloud Run, docker-compose, the
 * local stack, benchmarks). glibc gives each thread that allocates its own malloc arena, up to
 * 8 per core, and keeps what libvips' worker threads free there: the files service's RSS crept
 * to 451 MiB over two minutes of 12-megapixel JPEGs, 379 MiB with two arenas (the V8 heap was
 * the same). sharp's own advice for glibc is the same: fewer arenas, or another allocator.
 */
export const serviceEnvironment: Readonly<Record<ServiceName, Readonly<Record<string, string>>>> = {
  sync: {},
  files: { MALLOC_ARENA_MAX: "2" },
  backup: {},
  analytics: {},
};

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
