import { PubSub, type Topic } from "@google-cloud/pubsub";
import type { Log } from "./log.ts";
import type { BucketRecord, NotificationConfig, ObjectRecord } from "./records.ts";
import { objectResource } from "./resources.ts";

/** The object events a notification configuration can ask for. */
export const eventTypes = [
  "OBJECT_FINALIZE",
  "OBJECT_METADATA_UPDATE",
  "OBJECT_DELETE",
  "OBJECT_ARCHIVE",
] as const;
export type EventType = (typeof eventTypes)[number];

/** Publishes object events to the Pub/Sub emulator as a bucket's notification configs ask. */
export interface Notifier {
  /** Queues the event for every matching config; a failed publish is logged, never thrown. */
  notify(
    bucket: BucketRecord,
    event: EventType,
    object: ObjectRecord,
    baseUrl: string,
    extra?: Record<string, string>,
  ): void;
  /** Waits for queued publishes and closes the Pub/Sub clients. */
  close(): Promise<void>;
}

/** `//pubsub.googleapis.com/projects/P/topics/T` split into project and topic id. */
export function parseTopic(topic: string): { project: string; topic: string } | undefined {
  const match = /^(?:\/\/pubsub\.googleapis\.com\/)?projects\/([^/]+)\/topics\/([^/]+)$/.exec(
    topic,
  );
  return match ? { project: match[1] as string, topic: match[2] as string } : undefined;
}

function matches(config: NotificationConfig, event: EventType, name: string): boolean {
  const types = config.event_types ?? [];
  if (types.length > 0 && !types.includes(event)) return false;
  return name.startsWith(config.object_name_prefix ?? "");
}

/** A Notifier publishing through `@google-cloud/pubsub` to the emulator at `pubsubHost`. */
export function createNotifier(pubsubHost: string | undefined, log: Log): Notifier {
  const clients = new Map<string, PubSub>();
  // One Topic (one batching publisher) per topic: events close together share a request.
  const topics = new Map<string, Topic>();
  const pending = new Set<Promise<void>>();
  const client = (projectId: string) => {
    let pubsub = clients.get(projectId);
    if (!pubsub) {
      pubsub = new PubSub({ projectId, apiEndpoint: pubsubHost, emulatorMode: true });
      clients.set(projectId, pubsub);
    }
    return pubsub;
  };
  const topicOf = (name: string): Topic => {
    let topic = topics.get(name);
    if (!topic) {
      const target = parseTopic(name);
      if (!target) throw new Error(`not a Pub/Sub topic name: ${name}`);
      topic = client(target.project).topic(target.topic);
      topics.set(name, topic);
    }
    return topic;
  };

  const publish = async (config: NotificationConfig, data: Buffer, attributes: object) => {
    if (!pubsubHost) throw new Error("no Pub/Sub emulator host is configured");
    await topicOf(config.topic).publishMessage({
      data,
      attributes: attributes as Record<string, string>,
    });
  };

  return {
    notify(bucket, event, object, baseUrl, extra = {}) {
      for (const config of bucket.notifications) {
        if (!matches(config, event, object.name)) continue;
        const attributes = {
          ...config.custom_attributes,
          notificationConfig: `projects/_/buckets/${bucket.name}/notificationConfigs/${config.id}`,
          eventType: event,
          payloadFormat: config.payload_format,
          bucketId: bucket.name,
          objectId: object.name,
          objectGeneration: object.generation,
          eventTime: new Date().toISOString(),
          ...extra,
        };
        const data =
          config.payload_format === "JSON_API_V1"
            ? Buffer.from(JSON.stringify(objectResource(object, baseUrl)))
            : Buffer.alloc(0);
        const done: Promise<void> = publish(config, data, attributes)
          .catch((error: Error) =>
            log.error("notification not published", {
              topic: config.topic,
              eventType: event,
              object: `${bucket.name}/${object.name}`,
              error: error.message,
            }),
          )
          .finally(() => pending.delete(done));
        pending.add(done);
      }
    },
    async close() {
      // A publish to an emulator that went away would retry for a minute: stopping waits less.
      const patience = new Promise((resolve) => setTimeout(resolve, 5_000).unref());
      await Promise.race([Promise.allSettled([...pending]), patience]);
      await Promise.allSettled([...clients.values()].map((pubsub) => pubsub.close()));
      clients.clear();
      topics.clear();
    },
  };
}
