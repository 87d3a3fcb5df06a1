import type { Message, PubSub } from "@google-cloud/pubsub";

/** Messages a test subscription received, acked as they arrive. */
export interface Collector {
  messages: Message[];
  payloads<T>(): T[];
  close(): Promise<void>;
}

/**
 * Subscribes a fresh streaming-pull subscription (ordered, like production consumers) to a
 * topic and keeps what arrives, so a test can see exactly what was published.
 */
export async function collectMessages(
  pubsub: PubSub,
  topic: string,
  name = `collect-${topic}`,
): Promise<Collector> {
  const [subscription] = await pubsub
    .topic(topic)
    .createSubscription(name, { enableMessageOrdering: true });
  const messages: Message[] = [];
  subscription.on("message", (message: Message) => {
    messages.push(message);
    message.ack();
  });
  return {
    messages,
    payloads: <T>() => messages.map((message) => JSON.parse(message.data.toString("utf8")) as T),
    close: () => subscription.close(),
  };
}
