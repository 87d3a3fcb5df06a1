import type { PubSub } from "@google-cloud/pubsub";
import { isAlreadyExists } from "../errors.ts";
import type { ServiceName } from "../registry/services.ts";
import {
  deadLetterSubscriptionName,
  deadLetterTopicName,
  pushPath,
  subscriptionName,
  type TopicSpec,
} from "../topics/topic.ts";

export interface ProvisionOptions {
  /** Base URL of each service, for push endpoints; a service without one gets no push subscriptions. */
  serviceUrls: Partial<Record<ServiceName, string>>;
  /**
   * Let Pub/Sub itself back off and dead-letter after the policy's attempts (production).
   * Off against the emulator: with a retry policy it drops a pushed message whose connection
   * broke before the answer (a crashed instance), and it counts backoff answers as attempts.
   * The shared layer's attempt tracking backs off and dead-letters there instead.
   */
  nativePolicies: boolean;
}

/**
 * Creates every topic, dead-letter topic (with a subscription that keeps its messages) and
 * subscription of the registry. Idempotent: what exists is kept, push endpoints are updated.
 */
export async function provisionTopology(
  pubsub: PubSub,
  registry: readonly TopicSpec[],
  options: ProvisionOptions,
): Promise<void> {
  for (const topic of registry) {
    await ignoreExists(pubsub.createTopic(topic.name));
    await ignoreExists(pubsub.createTopic(deadLetterTopicName(topic)));
    await ignoreExists(
      pubsub.createSubscription(deadLetterTopicName(topic), deadLetterSubscriptionName(topic), {
        ackDeadlineSeconds: 60,
        messageRetentionDuration: { seconds: 7 * 24 * 3600 },
      }),
    );
    for (const spec of topic.subscriptions) {
      const base = options.serviceUrls[spec.service];
      if (spec.delivery === "push" && !base) continue;
      const name = subscriptionName(topic, spec.service);
      const pushConfig =
        spec.delivery === "push" ? { pushEndpoint: `${base}${pushPath(topic)}` } : undefined;
      const created = await ignoreExists(
        pubsub.createSubscription(topic.name, name, {
          ackDeadlineSeconds: spec.ackDeadlineSeconds,
          enableMessageOrdering: topic.orderingKey !== undefined && spec.ordered !== false,
          ...(spec.filter ? { filter: spec.filter } : {}),
          ...(pushConfig ? { pushConfig } : {}),
          ...(options.nativePolicies
            ? {
                retryPolicy: {
                  minimumBackoff: { seconds: topic.retry.minBackoffSeconds },
                  maximumBackoff: { seconds: topic.retry.maxBackoffSeconds },
                },
                deadLetterPolicy: {
                  deadLetterTopic: pubsub.topic(deadLetterTopicName(topic)).name,
                  maxDeliveryAttempts: topic.retry.maxDeliveryAttempts,
                },
              }
            : {}),
        }),
      );
      if (!created && pushConfig) await pubsub.subscription(name).modifyPushConfig(pushConfig);
    }
  }
}

async function ignoreExists(creation: Promise<unknown>): Promise<boolean> {
  try {
    await creation;
    return true;
  } catch (error) {
    if (isAlreadyExists(error)) return false;
    throw error;
  }
}
