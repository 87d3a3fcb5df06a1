import { randomBytes } from "node:crypto";
import type { PubSub } from "@google-cloud/pubsub";
import {
  deadLetterSubscriptionName,
  deadLetterTopicName,
  describeError,
  serviceNames,
  subscriptionName,
  topics,
} from "@syncstack/shared";
import type { ServiceView, SubscriptionView, TopicView } from "./views.ts";

export type { ServiceView, SubscriptionView, TopicView };

/**
 * A W3C trace context whose sampled flag is off: the services do not record the console's
 * health polls (one per service per live interval), which would push the traces people look
 * for out of the collector's last thousand.
 */
function unsampledTraceparent(): string {
  return `00-${randomBytes(16).toString("hex")}-${randomBytes(8).toString("hex")}-00`;
}

/** The whole system's shape: services, topics and subscriptions, from the registry and Pub/Sub. */
export interface Topology {
  at: string;
  services: ServiceView[];
  topics: TopicView[];
  /** Why Pub/Sub's subscriptions could not be listed, if they could not. */
  pubsub_error: string | null;
}

/**
 * Builds the topology: the registry's topics and subscriptions, checked against the
 * subscriptions Pub/Sub has, each service's health, and the dead letters per topic.
 */
export async function readTopology(options: {
  pubsub: PubSub;
  serviceUrls: Partial<Record<string, string>>;
  deadLetterCounts: { byTopic: Record<string, number>; bySubscription: Record<string, number> };
  fetch?: typeof fetch;
}): Promise<Topology> {
  const get = options.fetch ?? fetch;
  const [existing, health] = await Promise.all([
    options.pubsub
      .getSubscriptions()
      .then(([subscriptions]) => ({
        byName: new Map(
          subscriptions.map((s) => [
            s.name.slice(s.name.lastIndexOf("/") + 1),
            s.metadata?.pushConfig?.pushEndpoint || null,
          ]),
        ),
        error: null,
      }))
      .catch((error: unknown) => ({
        byName: new Map<string, string | null>(),
        error: describeError(error),
      })),
    Promise.all(
      serviceNames.map(async (name): Promise<ServiceView> => {
        const url = options.serviceUrls[name] ?? null;
        if (url === null) return { name, url, health: "unknown" };
        try {
          const answer = await get(`${url}/healthz`, {
            headers: { traceparent: unsampledTraceparent() },
            signal: AbortSignal.timeout(2_000),
          });
          return { name, url, health: answer.ok ? "ok" : "failing" };
        } catch {
          return { name, url, health: "failing" };
        }
      }),
    ),
  ]);
  return {
    at: new Date().toISOString(),
    services: health,
    pubsub_error: existing.error,
    topics: topics.map((topic) => ({
      name: topic.name,
      description: topic.description,
      publishers: [...topic.publishers],
      scheduled: topic.schedule ? topic.schedule.cron : null,
      dead_letter_topic: deadLetterTopicName(topic),
      dead_letter_subscription: deadLetterSubscriptionName(topic),
      dead_letters: options.deadLetterCounts.byTopic[topic.name] ?? 0,
      subscriptions: topic.subscriptions.map((spec) => {
        const name = subscriptionName(topic, spec.service);
        return {
          name,
          service: spec.service,
          delivery: spec.delivery,
          ack_deadline_seconds: spec.ackDeadlineSeconds,
          ordered: spec.ordered === true,
          filter: spec.filter ?? null,
          exists: existing.byName.has(name),
          push_endpoint: existing.byName.get(name) ?? null,
          dead_letters: options.deadLetterCounts.bySubscription[name] ?? 0,
        };
      }),
    })),
  };
}
