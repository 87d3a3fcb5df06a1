import { z } from "zod";
import { defaultRetry, defineTopic } from "./topic.ts";

/** The Cloud Storage object resource a JSON_API_V1 notification carries (fields we rely on). */
export const storageObjectSchema = z.looseObject({
  bucket: z.string().min(3),
  name: z.string().min(1),
  generation: z.string().regex(/^\d+$/),
  size: z.string().regex(/^\d+$/),
  contentType: z.string().optional(),
  timeCreated: z.iso.datetime({ offset: true }),
  updated: z.iso.datetime({ offset: true }),
  md5Hash: z.string().optional(),
  crc32c: z.string().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});
export type StorageObject = z.output<typeof storageObjectSchema>;

/** `file-uploaded`: Cloud Storage notifications for the uploads bucket. */
export const fileUploaded = defineTopic({
  name: "file-uploaded",
  description: "Cloud Storage object notifications (JSON_API_V1)",
  schema: storageObjectSchema,
  schemaVersion: 1,
  retry: defaultRetry,
  // The uploads bucket's notification publishes, as the Cloud Storage service agent.
  publishers: [],
  subscriptions: [
    {
      service: "files",
      delivery: "push",
      ackDeadlineSeconds: 120,
      // New objects are processed; deletes (also sent for an overwritten generation) clean up.
      filter: 'attributes.eventType = "OBJECT_FINALIZE" OR attributes.eventType = "OBJECT_DELETE"',
    },
  ],
});
