import {
  deadLetterSubscriptionName,
  deadLetterTopicName,
  pushPath,
  subscriptionName,
  type TopicSpec,
} from "@syncstack/shared";
import { pushAccountEmail, pushAccountId, serviceAudience } from "./names.ts";
import { type Block, ref, type TerraformJson, tfId } from "./terraform.ts";

const week = `${7 * 24 * 3600}s`;
const never = { ttl: "" };

/** The subscriptions of the registry, each with its topic. */
function subscriptionsOf(registry: readonly TopicSpec[]) {
  return registry.flatMap((topic) => topic.subscriptions.map((spec) => ({ topic, spec })));
}

/**
 * Topics, dead-letter topics with the subscriptions that keep their messages, and each
 * service's subscription: push to its Cloud Run URL with an OIDC token of the push account,
 * the topic's retry policy, and Pub/Sub's own dead-lettering after the policy's attempts.
 */
export function renderPubSub(registry: readonly TopicSpec[]): TerraformJson {
  const topics: Record<string, Block> = {};
  const subscriptions: Record<string, Block> = {};
  for (const topic of registry) {
    const deadLetter = deadLetterTopicName(topic);
    topics[tfId(topic.name)] = { name: topic.name };
    topics[tfId(deadLetter)] = { name: deadLetter };
    subscriptions[tfId(deadLetterSubscriptionName(topic))] = {
      name: deadLetterSubscriptionName(topic),
      topic: ref("google_pubsub_topic", deadLetter, "id"),
      ack_deadline_seconds: 60,
      message_retention_duration: week,
      expiration_policy: never,
    };
  }
  for (const { topic, spec } of subscriptionsOf(registry)) {
    const name = subscriptionName(topic, spec.service);
    subscriptions[tfId(name)] = {
      name,
      topic: ref("google_pubsub_topic", topic.name, "id"),
      ack_deadline_seconds: spec.ackDeadlineSeconds,
      enable_message_ordering: topic.orderingKey !== undefined && spec.ordered !== false,
      ...(spec.filter ? { filter: spec.filter } : {}),
      retry_policy: {
        minimum_backoff: `${topic.retry.minBackoffSeconds}s`,
        maximum_backoff: `${topic.retry.maxBackoffSeconds}s`,
      },
      dead_letter_policy: {
        dead_letter_topic: ref("google_pubsub_topic", deadLetterTopicName(topic), "id"),
        max_delivery_attempts: topic.retry.maxDeliveryAttempts,
      },
      expiration_policy: never,
      ...(spec.delivery === "push"
        ? {
            push_config: {
              push_endpoint: `${ref("google_cloud_run_v2_service", spec.service, "uri")}${pushPath(topic)}`,
              oidc_token: {
                service_account_email: pushAccountEmail,
                audience: serviceAudience(spec.service),
              },
            },
          }
        : {}),
    };
  }
  return {
    resource: {
      google_pubsub_topic: topics,
      google_pubsub_subscription: subscriptions,
      google_service_account: {
        push: {
          account_id: pushAccountId,
          display_name: "Pub/Sub push to syncstack services (OIDC tokens)",
        },
      },
      ...renderPubSubAgentIam(registry),
    },
  };
}

/**
 * What the Pub/Sub service agent needs: to sign push tokens as the push account, to publish
 * dead letters, and to ack the messages it moves there from each subscription.
 */
function renderPubSubAgentIam(
  registry: readonly TopicSpec[],
): Record<string, Record<string, Block>> {
  const agent = "${local.pubsub_agent}";
  return {
    google_service_account_iam_member: {
      pubsub_agent_signs_push_tokens: {
        service_account_id: ref("google_service_account", "push", "name"),
        role: "roles/iam.serviceAccountTokenCreator",
        member: agent,
      },
    },
    google_pubsub_topic_iam_member: Object.fromEntries(
      registry.map((topic) => [
        `pubsub_agent_publishes_${tfId(deadLetterTopicName(topic))}`,
        {
          topic: ref("google_pubsub_topic", deadLetterTopicName(topic), "name"),
          role: "roles/pubsub.publisher",
          member: agent,
        },
      ]),
    ),
    google_pubsub_subscription_iam_member: Object.fromEntries(
      subscriptionsOf(registry).map(({ topic, spec }) => {
        const name = subscriptionName(topic, spec.service);
        return [
          `pubsub_agent_acks_${tfId(name)}`,
          {
            subscription: ref("google_pubsub_subscription", name, "name"),
            role: "roles/pubsub.subscriber",
            member: agent,
          },
        ];
      }),
    ),
  };
}
