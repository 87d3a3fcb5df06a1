import type { TopicSpec } from "../topics/topic.ts";

/** A valid payload of each topic, broken one field at a time by the fuzzer. */
export function samplePayload(topic: TopicSpec): Record<string, unknown> {
  const now = new Date();
  const samples: Record<string, Record<string, unknown>> = {
    "realtime-updates": {
      collection: "notes",
      document: "n1",
      timestamp: now.toISOString(),
      op: "create",
      version: 1,
      source: "ios",
      uid: "u1",
    },
    "user-created": { uid: "u1", email: "a@example.com", display_name: "A", email_verified: false },
    "file-uploaded": {
      bucket: "demo-uploads",
      name: "a/b.jpg",
      generation: "1",
      size: "10",
      timeCreated: now.toISOString(),
      updated: now.toISOString(),
    },
  };
  const sample = samples[topic.name] ?? topic.manualPayload?.(now);
  if (!sample) throw new Error(`the fuzzer has no sample payload of ${topic.name}: add one`);
  return sample as Record<string, unknown>;
}
