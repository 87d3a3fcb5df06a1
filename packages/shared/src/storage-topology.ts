import type { Storage } from "@google-cloud/storage";
import type { ServiceName } from "./registry/services.ts";
import { fileUploaded } from "./topics/file-uploaded.ts";
import type { TopicSpec } from "./topics/topic.ts";

/** The buckets of the system, by role. */
export type BucketRole = "uploads" | "thumbnails" | "backups";

/** A bucket as data, with the notifications it sends (a bucket notification in production). */
export interface BucketSpec {
  role: BucketRole;
  notifications: readonly { topic: TopicSpec; eventTypes: readonly string[] }[];
  /** What each service may do with its objects (IAM in production): read, or also write and delete. */
  access: Partial<Record<ServiceName, "read" | "write">>;
  /** The variable that names the bucket to the services with access (none: they are told otherwise). */
  env?: string;
}

/** Every bucket: uploads notify `file-uploaded`; thumbnails are written elsewhere so no loop. */
export const bucketSpecs: readonly BucketSpec[] = [
  {
    role: "uploads",
    notifications: [{ topic: fileUploaded, eventTypes: ["OBJECT_FINALIZE", "OBJECT_DELETE"] }],
    access: { files: "read" },
    env: "UPLOADS_BUCKET",
  },
  { role: "thumbnails", notifications: [], access: { files: "write" }, env: "THUMBNAILS_BUCKET" },
  // The backup service is told its bucket by config/backup.storage_bucket, in Firestore.
  { role: "backups", notifications: [], access: { backup: "write" } },
];

/** The default bucket names of a project (docs/contract.md: `demo-syncstack-uploads`, ...). */
export function defaultBucketNames(projectId: string): Record<BucketRole, string> {
  return {
    uploads: `${projectId}-uploads`,
    thumbnails: `${projectId}-thumbnails`,
    backups: `${projectId}-backups`,
  };
}

/**
 * Creates the buckets and their notification configurations; idempotent, so a second
 * start against the same storage keeps what exists.
 */
export async function provisionBuckets(
  storage: Storage,
  projectId: string,
  names: Record<BucketRole, string>,
): Promise<void> {
  for (const spec of bucketSpecs) {
    const bucket = storage.bucket(names[spec.role]);
    const [exists] = await bucket.exists();
    if (!exists) await storage.createBucket(names[spec.role]);
    if (spec.notifications.length === 0) continue;
    const [existing] = await bucket.getNotifications();
    for (const notification of spec.notifications) {
      const topic = `projects/${projectId}/topics/${notification.topic.name}`;
      const present = existing.some((config) =>
        String(config.metadata?.topic ?? "").endsWith(topic),
      );
      if (present) continue;
      await bucket.createNotification(topic, {
        payloadFormat: "JSON_API_V1",
        eventTypes: [...notification.eventTypes],
      });
    }
  }
}
