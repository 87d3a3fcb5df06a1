import { Duration, type Message, type PubSub } from "@google-cloud/pubsub";
import { subscriptionName } from "../topics/topic.ts";
import { type Consumer, type ConsumerRuntime, createDeliveryProcessor } from "./consumer.ts";
import { subscriptionOf } from "./push.ts";

/** A running streaming-pull consumer. */
export interface PullConsumer {
  close(): Promise<void>;
}

/**
 * Feeds a consumer from its streaming-pull subscription with flow control, for consumers
 * that run as workers or need more than push gives (the emulator allows two pushes in
 * flight per subscription). Handling is the same as for push.
 */
export function startPullConsumer(
  pubsub: PubSub,
  target: Consumer,
  runtime: ConsumerRuntime,
): PullConsumer {
  const spec = subscriptionOf(target, runtime.service);
  const name = subscriptionName(target.topic, runtime.service);
  const process = createDeliveryProcessor(target, spec, runtime);
  const subscription = pubsub.subscription(name, {
    flowControl: { maxMessages: spec.maxInFlight ?? 100, allowExcessMessages: false },
    minAckDeadline: Duration.from({ seconds: Math.min(spec.ackDeadlineSeconds, 600) }),
  });
  const inFlight = new Set<Promise<void>>();

  subscription.on("message", (message: Message) => {
    const work = process({
      messageId: message.id,
      subscription: subscription.name,
      data: message.data,
      attributes: message.attributes,
      publishTime: new Date(message.publishTime.getTime()),
      orderingKey: message.orderingKey || undefined,
      deliveryAttempt: message.deliveryAttempt || undefined,
    }).then(
      (outcome) => (outcome === "ack" ? message.ack() : message.nack()),
      (error: unknown) => {
        runtime.logger.error("pull handler crashed", { error, subscription: name });
        message.nack();
      },
    );
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
  subscription.on("error", (error: unknown) => {
    runtime.logger.error("streaming pull failed", { error, subscription: name });
  });

  return {
    async close() {
      // Stop taking messages, let the ones in hand settle their acks, then close the stream.
      subscription.removeAllListeners("message");
      await Promise.allSettled([...inFlight]);
      await subscription.close();
    },
  };
}
