import { type PubSub, v1 } from "@google-cloud/pubsub";

interface Pending {
  data: Buffer;
  attributes: Record<string, string>;
  orderingKey: string;
  resolve: (messageId: string) => void;
  reject: (error: unknown) => void;
}

export interface KeyedBatcherOptions {
  deadlineMs: number;
  maxMessages?: number;
  /** Publish requests in flight at once per topic; messages arriving meanwhile share the next. */
  maxInFlight?: number;
}

/**
 * Publishes messages that carry ordering keys in shared requests. The client library sends
 * each key's messages in a request of their own, which with many keys (one per document)
 * means one request per message. Here a request holds many keys; order within a key is kept
 * because a key is never in two requests at once, and a failed request fails the messages of
 * its keys that wait behind it, so nothing of that key is published out of order.
 *
 * Batches form from load, and from time where a caller allows it: a message goes out at the
 * end of the event-loop turn it was queued in, or, when its publisher said it may wait
 * (`maxWaitMs`), when the earliest of the waiting messages' deadlines comes; with everything
 * queued meanwhile. While `maxInFlight` requests of its topic are in flight it waits for one
 * of them to finish. An idle publisher that cannot wait adds no wait; a busy one, or one
 * whose callers do not wait for the publish, sends few, large requests: a request costs
 * Pub/Sub far more than a message in it.
 */
export class KeyedBatcher {
  readonly #pubsub: PubSub;
  #client: Promise<v1.PublisherClient> | undefined;
  readonly #options: Required<KeyedBatcherOptions>;
  readonly #projectId: string;
  readonly #queues = new Map<string, Pending[]>();
  readonly #busyKeys = new Map<string, Set<string>>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #requests = new Map<string, number>();
  #scheduled = false;
  /** The pending flush timer per topic and when it fires. */
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();

  constructor(pubsub: PubSub, options: KeyedBatcherOptions) {
    this.#pubsub = pubsub;
    this.#projectId = pubsub.projectId;
    this.#options = { maxMessages: 500, maxInFlight: 2, ...options };
  }

  /**
   * Queues one message to go out within `maxWaitMs` (0: at the end of this event-loop turn);
   * resolves with its id once the request holding it succeeded.
   */
  publish(
    topic: string,
    data: Buffer,
    attributes: Record<string, string>,
    orderingKey: string,
    maxWaitMs = 0,
  ): Promise<string> {
    return new Promise((resolve, reject) => {
      const queue = this.#queues.get(topic) ?? [];
      queue.push({ data, attributes, orderingKey, resolve, reject });
      this.#queues.set(topic, queue);
      if (queue.length >= this.#options.maxMessages) this.#flushTopic(topic);
      else if (maxWaitMs > 0) this.#flushBy(topic, performance.now() + maxWaitMs);
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flushAll());
      }
    });
  }

  /** Sends everything queued and waits for the requests in flight. */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0 || [...this.#queues.values()].some((q) => q.length > 0)) {
      this.#flushAll();
      await Promise.allSettled([...this.#inFlight]);
    }
  }

  /** Closes the underlying client, if one was opened. */
  async close(): Promise<void> {
    await this.flush();
    const client = this.#client;
    this.#client = undefined;
    if (client) await (await client).close();
  }

  #connect(): Promise<v1.PublisherClient> {
    this.#client ??= this.#pubsub
      .getClientConfig()
      .then(
        (config) =>
          new v1.PublisherClient(config as ConstructorParameters<typeof v1.PublisherClient>[0]),
      );
    return this.#client;
  }

  #flushAll(): void {
    this.#scheduled = false;
    for (const topic of this.#queues.keys()) this.#flushTopic(topic);
  }

  /** Makes sure the topic flushes no later than `at` (a `performance.now()` time). */
  #flushBy(topic: string, at: number): void {
    const pending = this.#timers.get(topic);
    if (pending && pending.at <= at) return;
    clearTimeout(pending?.timer);
    const timer = setTimeout(() => this.#flushTopic(topic), Math.max(0, at - performance.now()));
    this.#timers.set(topic, { at, timer });
  }

  #flushTopic(topic: string): void {
    const pending = this.#timers.get(topic);
    if (pending) {
      clearTimeout(pending.timer);
      this.#timers.delete(topic);
    }
    const requests = this.#requests.get(topic) ?? 0;
    if (requests >= this.#options.maxInFlight) return; // the end of one sends the rest
    const queue = this.#queues.get(topic) ?? [];
    const busy = this.#busyKeys.get(topic) ?? new Set<string>();
    this.#busyKeys.set(topic, busy);
    const batch: Pending[] = [];
    const waiting: Pending[] = [];
    const taken = new Set<string>();
    const waitingKeys = new Set<string>();
    for (const message of queue) {
      const blocked = busy.has(message.orderingKey) || waitingKeys.has(message.orderingKey);
      if (blocked || batch.length >= this.#options.maxMessages) {
        waiting.push(message);
        waitingKeys.add(message.orderingKey);
      } else {
        batch.push(message);
        taken.add(message.orderingKey);
      }
    }
    this.#queues.set(topic, waiting);
    if (batch.length === 0) return;
    for (const key of taken) busy.add(key);
    this.#requests.set(topic, requests + 1);
    const work = this.#send(topic, batch).finally(() => {
      this.#requests.set(topic, (this.#requests.get(topic) ?? 1) - 1);
      for (const key of taken) busy.delete(key);
      if ((this.#queues.get(topic)?.length ?? 0) > 0) this.#flushTopic(topic);
    });
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #send(topic: string, batch: Pending[]): Promise<void> {
    try {
      const client = await this.#connect();
      const [response] = await client.publish(
        {
          topic: `projects/${this.#projectId}/topics/${topic}`,
          messages: batch.map((m) => ({
            data: m.data,
            attributes: m.attributes,
            orderingKey: m.orderingKey,
          })),
        },
        { timeout: this.#options.deadlineMs },
      );
      batch.forEach((message, i) => {
        message.resolve(response.messageIds?.[i] ?? "");
      });
    } catch (error) {
      for (const message of batch) message.reject(error);
      // Messages of the failed keys that queued behind them must not overtake them.
      const failedKeys = new Set(batch.map((m) => m.orderingKey));
      const queue = this.#queues.get(topic) ?? [];
      this.#queues.set(
        topic,
        queue.filter((message) => {
          if (!failedKeys.has(message.orderingKey)) return true;
          message.reject(error);
          return false;
        }),
      );
    }
  }
}
