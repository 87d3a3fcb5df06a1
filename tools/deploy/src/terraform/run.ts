import {
  deadLetterTopicName,
  type ServiceName,
  serviceNames,
  subscriptionName,
  type TopicSpec,
} from "@syncstack/shared";
import { bucketSpecs, serviceEnvironment } from "@syncstack/shared/provision";
import {
  bucketName,
  cloudRunName,
  pushAccountEmail,
  serviceAccountEmail,
  serviceAudience,
  serviceMember,
} from "./names.ts";
import { type Block, ref, type TerraformJson, tfId } from "./terraform.ts";

/** Cloud Run sizing; `background`: the service works between requests, so its CPU stays on. */
export const cloudRunSettings: Record<
  ServiceName,
  { memory: string; cpu: string; background: boolean }
> = {
  sync: { memory: "512Mi", cpu: "1", background: true }, // the outbox sweeper
  files: { memory: "1Gi", cpu: "1", background: false }, // sharp decodes whole images
  backup: { memory: "1Gi", cpu: "1", background: false },
  analytics: { memory: "512Mi", cpu: "1", background: true }, // the activity folder
};

/** Roles every service's account has on the project: Firestore documents, spans and metrics. */
export const projectRoles = [
  "roles/datastore.user",
  "roles/telemetry.tracesWriter",
  "roles/telemetry.metricsWriter",
];

const bucketRoles = { read: "roles/storage.objectViewer", write: "roles/storage.objectAdmin" };

/** The topics a service publishes to: those it is declared a publisher of, and dead letters. */
export function publishedTopics(service: ServiceName, registry: readonly TopicSpec[]): string[] {
  return [
    ...registry.filter((topic) => topic.publishers.includes(service)).map((topic) => topic.name),
    ...registry
      .filter((topic) => topic.subscriptions.some((spec) => spec.service === service))
      .map((topic) => deadLetterTopicName(topic)),
  ];
}

/** A push request may last as long as the longest ack deadline of the service's subscriptions. */
function requestTimeoutSeconds(service: ServiceName, registry: readonly TopicSpec[]): number {
  const deadlines = registry.flatMap((topic) =>
    topic.subscriptions.filter((s) => s.service === service).map((s) => s.ackDeadlineSeconds),
  );
  return Math.max(300, ...deadlines);
}

function environment(service: ServiceName): { name: string; value: string }[] {
  const buckets = bucketSpecs.flatMap((bucket) =>
    bucket.env && bucket.access[service]
      ? [{ name: bucket.env, value: bucketName(bucket.role) }]
      : [],
  );
  return [
    { name: "GOOGLE_CLOUD_PROJECT", value: "${var.project_id}" },
    { name: "LOG_LEVEL", value: "${var.log_level}" },
    { name: "OTEL_TRACES_EXPORTER", value: "${var.traces_exporter}" },
    { name: "OTEL_METRICS_EXPORTER", value: "${var.metrics_exporter}" },
    { name: "PUSH_AUTH", value: "on" },
    { name: "PUSH_AUDIENCE", value: serviceAudience(service) },
    { name: "PUSH_SERVICE_ACCOUNT", value: pushAccountEmail },
    ...buckets,
    ...Object.entries(serviceEnvironment[service]).map(([name, value]) => ({ name, value })),
  ];
}

function cloudRunService(service: ServiceName, registry: readonly TopicSpec[]): Block {
  const settings = cloudRunSettings[service];
  return {
    name: cloudRunName(service),
    location: "${var.region}",
    deletion_protection: false,
    ingress: "INGRESS_TRAFFIC_ALL",
    template: {
      service_account: serviceAccountEmail(service),
      timeout: `${requestTimeoutSeconds(service, registry)}s`,
      containers: [
        {
          image: `\${var.images.${service}}`,
          resources: {
            limits: { cpu: settings.cpu, memory: settings.memory },
            cpu_idle: !settings.background,
          },
          env: environment(service),
          startup_probe: { http_get: { path: "/healthz" } },
        },
      ],
    },
  };
}

/**
 * Each service's account and Cloud Run service, and its least-privilege IAM: Firestore and
 * traces on the project, publisher on exactly the topics it publishes to, its buckets, and
 * (for pull delivery) subscriber on its own subscriptions. Services are invoked publicly:
 * apps call them with Firebase ID tokens and push endpoints check Pub/Sub's OIDC token.
 */
export function renderServices(registry: readonly TopicSpec[]): TerraformJson {
  const projectIam: Record<string, Block> = {};
  const topicIam: Record<string, Block> = {};
  const bucketIam: Record<string, Block> = {};
  const subscriptionIam: Record<string, Block> = {};
  for (const service of serviceNames) {
    for (const role of projectRoles) {
      projectIam[`${service}_${tfId(role.replace("roles/", ""))}`] = {
        project: "${var.project_id}",
        role,
        member: serviceMember(service),
      };
    }
    for (const topic of publishedTopics(service, registry)) {
      topicIam[`${service}_publishes_${tfId(topic)}`] = {
        topic: ref("google_pubsub_topic", topic, "name"),
        role: "roles/pubsub.publisher",
        member: serviceMember(service),
      };
    }
    for (const bucket of bucketSpecs) {
      const access = bucket.access[service];
      if (!access) continue;
      bucketIam[`${service}_${access}s_${bucket.role}`] = {
        bucket: ref("google_storage_bucket", bucket.role, "name"),
        role: bucketRoles[access],
        member: serviceMember(service),
      };
    }
    for (const topic of registry) {
      for (const spec of topic.subscriptions) {
        if (spec.service !== service || spec.delivery !== "pull") continue;
        const name = subscriptionName(topic, service);
        subscriptionIam[`${service}_pulls_${tfId(name)}`] = {
          subscription: ref("google_pubsub_subscription", name, "name"),
          role: "roles/pubsub.subscriber",
          member: serviceMember(service),
        };
      }
    }
  }
  return {
    resource: {
      google_service_account: Object.fromEntries(
        serviceNames.map((service) => [
          service,
          { account_id: cloudRunName(service), display_name: `syncstack ${service} service` },
        ]),
      ),
      google_cloud_run_v2_service: Object.fromEntries(
        serviceNames.map((service) => [service, cloudRunService(service, registry)]),
      ),
      google_cloud_run_v2_service_iam_member: Object.fromEntries(
        serviceNames.map((service) => [
          `${service}_public`,
          {
            name: ref("google_cloud_run_v2_service", service, "name"),
            location: "${var.region}",
            role: "roles/run.invoker",
            member: "allUsers",
          },
        ]),
      ),
      google_project_iam_member: projectIam,
      google_pubsub_topic_iam_member: topicIam,
      google_storage_bucket_iam_member: bucketIam,
      ...(Object.keys(subscriptionIam).length > 0
        ? { google_pubsub_subscription_iam_member: subscriptionIam }
        : {}),
    },
  };
}
