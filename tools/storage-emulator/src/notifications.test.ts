import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { PubSub } from "@google-cloud/pubsub";
import type { Bucket } from "@google-cloud/storage";
import { compileFilter, fileUploaded } from "@syncstack/shared";
import {
  type Collector,
  collectMessages,
  emulatorHosts,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import { bucketName, startTestEmulator, type TestEmulator } from "./testing/index.ts";

// Runs under the test runner, which starts the Pub/Sub emulator (./syncstack test).
const { pubsub: pubsubHost } = emulatorHosts();
const projectId = testProjectId();
const pubsub = new PubSub({ projectId, apiEndpoint: pubsubHost, emulatorMode: true });
let env: TestEmulator;
const collectors: Collector[] = [];

before(async () => {
  env = await startTestEmulator({ pubsubEmulatorHost: pubsubHost }, projectId);
});
after(async () => {
  // Open streaming pulls would keep this process alive after a failed test.
  await Promise.all(collectors.map((collector) => collector.close()));
  await env.stop();
  await pubsub.close();
});

/** A fresh topic with a subscription keeping what arrives, and a bucket notifying it. */
async function notifiedBucket(
  topic: string,
  options: Record<string, unknown> = {},
): Promise<{ bucket: Bucket; messages: Collector; configId: string }> {
  await pubsub.createTopic(topic);
  const messages = await collectMessages(pubsub, topic);
  collectors.push(messages);
  const [bucket] = await env.storage.createBucket(bucketName());
  const [notification] = await bucket.createNotification(topic, options);
  return { bucket, messages, configId: notification.id as string };
}

function waitForMessages(messages: Collector, count: number) {
  return waitFor(`${count} messages`, () =>
    messages.messages.length >= count ? messages.messages : undefined,
  );
}

describe("bucket notifications", () => {
  test("configurations are created, listed, read and deleted", async () => {
    const topic = "configs";
    await pubsub.createTopic(topic);
    const [bucket] = await env.storage.createBucket(bucketName());
    const [notification, resource] = await bucket.createNotification(topic, {
      eventTypes: ["OBJECT_FINALIZE"],
      objectNamePrefix: "uploads/",
      customAttributes: { source: "test" },
    });
    assert.deepEqual(
      { ...(resource as object), etag: undefined, selfLink: undefined },
      {
        kind: "storage#notification",
        id: notification.id,
        topic: `//pubsub.googleapis.com/projects/${projectId}/topics/${topic}`,
        payload_format: "JSON_API_V1",
        event_types: ["OBJECT_FINALIZE"],
        object_name_prefix: "uploads/",
        custom_attributes: { source: "test" },
        etag: undefined,
        selfLink: undefined,
      },
    );
    const [listed] = await bucket.getNotifications();
    assert.deepEqual(
      listed.map((n) => n.id),
      [notification.id],
    );
    const [metadata] = await bucket.notification(notification.id as string).getMetadata();
    assert.equal(metadata.topic, (resource as { topic: string }).topic);
    await notification.delete();
    const [exists] = await bucket.notification(notification.id as string).exists();
    assert.equal(exists, false);
    await assert.rejects(bucket.createNotification("not a topic/name"), { code: 400 });
  });

  test("an upload publishes OBJECT_FINALIZE with the object resource, as Cloud Storage does", async () => {
    const { bucket, messages, configId } = await notifiedBucket("file-uploaded");
    const file = bucket.file("uploads/photo.png");
    await file.save(Buffer.from("not really a png"), {
      contentType: "image/png",
      metadata: { metadata: { uid: "u1" } },
    });
    const [metadata] = await file.getMetadata();
    const [message] = await waitForMessages(messages, 1);
    assert.ok(message);

    const { eventTime, ...attributes } = message.attributes;
    assert.deepEqual(attributes, {
      notificationConfig: `projects/_/buckets/${bucket.name}/notificationConfigs/${configId}`,
      eventType: "OBJECT_FINALIZE",
      payloadFormat: "JSON_API_V1",
      bucketId: bucket.name,
      objectId: "uploads/photo.png",
      objectGeneration: metadata.generation,
    });
    assert.ok(!Number.isNaN(Date.parse(eventTime ?? "")), "eventTime is RFC 3339");
    const subscriptionFilter = fileUploaded.subscriptions[0]?.filter ?? "";
    assert.equal(compileFilter(subscriptionFilter)(message.attributes), true);

    const payload = fileUploaded.schema.parse(JSON.parse(message.data.toString("utf8")));
    assert.deepEqual(
      {
        bucket: payload.bucket,
        name: payload.name,
        generation: payload.generation,
        size: payload.size,
        contentType: payload.contentType,
        md5Hash: payload.md5Hash,
        crc32c: payload.crc32c,
        metadata: payload.metadata,
      },
      {
        bucket: bucket.name,
        name: "uploads/photo.png",
        generation: metadata.generation,
        size: "16",
        contentType: "image/png",
        md5Hash: metadata.md5Hash,
        crc32c: metadata.crc32c,
        metadata: { uid: "u1" },
      },
    );
  });

  test("delete, overwrite and metadata changes publish their events", async () => {
    const { bucket, messages } = await notifiedBucket("all-events");
    const file = bucket.file("doc.txt");
    await file.save("one");
    const [first] = await file.getMetadata();
    await file.save("two");
    const [second] = await file.getMetadata();
    await file.setMetadata({ metadata: { reviewed: "yes" } });
    await file.delete();

    const received = await waitForMessages(messages, 5);
    // Pub/Sub does not keep publish order across messages without an ordering key.
    const events = received
      .map((m) => {
        const { eventType, objectGeneration, overwroteGeneration, overwrittenByGeneration } =
          m.attributes;
        return [eventType, objectGeneration, overwroteGeneration, overwrittenByGeneration].join(
          " ",
        );
      })
      .sort();
    const [one, two] = [String(first.generation), String(second.generation)];
    const expected = [
      `OBJECT_FINALIZE ${one}  `,
      `OBJECT_FINALIZE ${two} ${one} `,
      `OBJECT_DELETE ${one}  ${two}`,
      `OBJECT_METADATA_UPDATE ${two}  `,
      `OBJECT_DELETE ${two}  `,
    ].sort();
    assert.deepEqual(events, expected);
    const deleted = received.find(
      (m) => m.attributes.eventType === "OBJECT_DELETE" && !m.attributes.overwrittenByGeneration,
    );
    assert.equal(JSON.parse(deleted?.data.toString("utf8") ?? "{}").name, "doc.txt");
  });

  test("event types, a name prefix and custom attributes narrow and tag what is published", async () => {
    const { bucket, messages } = await notifiedBucket("finalize-only", {
      eventTypes: ["OBJECT_FINALIZE"],
      objectNamePrefix: "in/",
      customAttributes: { pipeline: "thumbnails" },
    });
    await bucket.file("out/skip.txt").save("x");
    await bucket.file("in/take.txt").save("x");
    await bucket.file("in/take.txt").delete();
    await bucket.file("in/second.txt").save("x");
    const received = await waitForMessages(messages, 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(
      messages.messages.map((m) => [m.attributes.objectId, m.attributes.eventType]).sort(),
      [
        ["in/second.txt", "OBJECT_FINALIZE"],
        ["in/take.txt", "OBJECT_FINALIZE"],
      ],
    );
    assert.equal(received[0]?.attributes.pipeline, "thumbnails");
  });

  test("a publish that fails is logged and the upload still succeeds", async () => {
    const [bucket] = await env.storage.createBucket(bucketName());
    await bucket.createNotification("never-created");
    await bucket.file("still-works.txt").save("x");
    const [exists] = await bucket.file("still-works.txt").exists();
    assert.equal(exists, true);
    await waitFor("the failure in the log", () =>
      env.logs.find((line) => line.message === "notification not published"),
    );
  });
});
