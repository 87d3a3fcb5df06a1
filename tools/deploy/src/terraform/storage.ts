import { schemaVersionAttribute, type TopicSpec } from "@syncstack/shared";
import type { BucketSpec } from "@syncstack/shared/provision";
import { bucketName } from "./names.ts";
import { type Block, ref, type TerraformJson, tfId } from "./terraform.ts";

/**
 * The buckets (private, uniform access) and their notifications, with the publisher role the
 * Cloud Storage service agent needs on each notified topic.
 */
export function renderStorage(buckets: readonly BucketSpec[]): TerraformJson {
  const notifications: Record<string, Block> = {};
  const agentIam: Record<string, Block> = {};
  for (const bucket of buckets) {
    for (const notification of bucket.notifications) {
      const grant = `storage_agent_publishes_${tfId(notification.topic.name)}`;
      agentIam[grant] = {
        topic: ref("google_pubsub_topic", notification.topic.name, "name"),
        role: "roles/pubsub.publisher",
        member: "serviceAccount:${data.google_storage_project_service_account.gcs.email_address}",
      };
      notifications[`${bucket.role}_${tfId(notification.topic.name)}`] = {
        bucket: ref("google_storage_bucket", bucket.role, "name"),
        payload_format: "JSON_API_V1",
        topic: ref("google_pubsub_topic", notification.topic.name, "id"),
        event_types: [...notification.eventTypes],
        depends_on: [`google_pubsub_topic_iam_member.${grant}`],
      };
    }
  }
  return {
    data: { google_storage_project_service_account: { gcs: {} } },
    resource: {
      google_storage_bucket: Object.fromEntries(
        buckets.map((bucket) => [
          bucket.role,
          {
            name: bucketName(bucket.role),
            location: "${upper(var.region)}",
            uniform_bucket_level_access: true,
            public_access_prevention: "enforced",
            force_destroy: false,
          },
        ]),
      ),
      google_storage_notification: notifications,
      google_pubsub_topic_iam_member: agentIam,
    },
  };
}

/** A Cloud Scheduler job per scheduled topic, publishing the schedule's fixed message. */
export function renderSchedules(registry: readonly TopicSpec[]): TerraformJson {
  const jobs: Record<string, Block> = {};
  for (const topic of registry) {
    if (!topic.schedule) continue;
    jobs[tfId(topic.name)] = {
      name: `syncstack-${topic.name}`,
      region: "${var.region}",
      schedule: topic.schedule.cron,
      time_zone: topic.schedule.timeZone,
      pubsub_target: {
        topic_name: ref("google_pubsub_topic", topic.name, "id"),
        data: Buffer.from(JSON.stringify(topic.schedule.cloudPayload)).toString("base64"),
        attributes: { [schemaVersionAttribute]: String(topic.schemaVersion) },
      },
    };
  }
  return { resource: { google_cloud_scheduler_job: jobs } };
}
