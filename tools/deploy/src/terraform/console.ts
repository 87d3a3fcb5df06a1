import { deadLetterSubscriptionName, type TopicSpec } from "@syncstack/shared";
import { type Block, ref, type TerraformJson, tfId } from "./terraform.ts";

/** The console's Cloud Run service and service account id. */
export const consoleName = "syncstack-console";

/** Where the console's image keeps the built app (apps/console/dist), from its working directory. */
export const consoleAppDir = "app";

/**
 * What the console's account may do on the project, and nothing more: list subscriptions
 * (the topology), read Firestore (stats, backups' states, the Data page), write its spans and
 * metrics, read the services' traces (the Traces page) and metric series (the topology's
 * rates). Subscriber on the dead-letter subscriptions and publisher on the topics (replays)
 * are granted per resource.
 */
export const consoleProjectRoles = [
  "roles/pubsub.viewer",
  "roles/datastore.viewer",
  "roles/telemetry.tracesWriter",
  "roles/telemetry.metricsWriter",
  "roles/cloudtrace.user",
  "roles/monitoring.viewer",
];

const serviceUrl = (service: string) => ref("google_cloud_run_v2_service", service, "uri");

/**
 * The ops console as its own Cloud Run service, running as its own account with only the
 * roles it needs. Anyone may load its pages (static files, no data); every `/v1/console`
 * route admits only a Firebase ID token with the claim `admin: true`, and the backup and
 * analytics routes it calls check the admin's own token again.
 */
export function renderConsole(registry: readonly TopicSpec[]): TerraformJson {
  const member = `serviceAccount:${ref("google_service_account", "console", "email")}`;
  const projectIam: Record<string, Block> = {};
  for (const role of consoleProjectRoles) {
    projectIam[`console_${tfId(role.replace("roles/", ""))}`] = {
      project: "${var.project_id}",
      role,
      member,
    };
  }
  return {
    variable: {
      firebase_api_key: {
        type: "string",
        default: null,
        description:
          "The Firebase web API key the console's pages sign in with (Project settings > General); the console is not deployed without it",
      },
    },
    resource: {
      google_service_account: {
        console: { account_id: consoleName, display_name: "syncstack ops console" },
      },
      google_cloud_run_v2_service: {
        console: {
          count: "${var.firebase_api_key == null ? 0 : 1}",
          name: consoleName,
          location: "${var.region}",
          deletion_protection: false,
          ingress: "INGRESS_TRAFFIC_ALL",
          template: {
            service_account: ref("google_service_account", "console", "email"),
            // A restore through the console lasts as long as the backup service's answer.
            timeout: "900s",
            containers: [
              {
                image: "${var.images.console}",
                resources: { limits: { cpu: "1", memory: "512Mi" }, cpu_idle: true },
                env: [
                  { name: "GOOGLE_CLOUD_PROJECT", value: "${var.project_id}" },
                  { name: "LOG_LEVEL", value: "${var.log_level}" },
                  { name: "OTEL_TRACES_EXPORTER", value: "${var.traces_exporter}" },
                  { name: "OTEL_METRICS_EXPORTER", value: "${var.metrics_exporter}" },
                  { name: "CONSOLE_APP_DIR", value: consoleAppDir },
                  // Traces from Cloud Trace, rates from Cloud Monitoring (no collector here).
                  { name: "CONSOLE_TELEMETRY_SOURCE", value: "cloud" },
                  { name: "FIREBASE_API_KEY", value: "${var.firebase_api_key}" },
                  { name: "FIREBASE_AUTH_DOMAIN", value: "${var.project_id}.firebaseapp.com" },
                  { name: "SYNC_URL", value: serviceUrl("sync") },
                  { name: "FILES_URL", value: serviceUrl("files") },
                  { name: "BACKUP_URL", value: serviceUrl("backup") },
                  { name: "ANALYTICS_URL", value: serviceUrl("analytics") },
                ],
                startup_probe: { http_get: { path: "/healthz" } },
              },
            ],
          },
        },
      },
      google_cloud_run_v2_service_iam_member: {
        console_public: {
          count: "${var.firebase_api_key == null ? 0 : 1}",
          name: "${google_cloud_run_v2_service.console[0].name}",
          location: "${var.region}",
          role: "roles/run.invoker",
          member: "allUsers",
        },
      },
      google_project_iam_member: projectIam,
      google_pubsub_topic_iam_member: Object.fromEntries(
        registry.map((topic) => [
          `console_replays_${tfId(topic.name)}`,
          {
            topic: ref("google_pubsub_topic", topic.name, "name"),
            role: "roles/pubsub.publisher",
            member,
          },
        ]),
      ),
      google_pubsub_subscription_iam_member: Object.fromEntries(
        registry.map((topic) => {
          const name = deadLetterSubscriptionName(topic);
          return [
            `console_reads_${tfId(name)}`,
            {
              subscription: ref("google_pubsub_subscription", name, "name"),
              role: "roles/pubsub.subscriber",
              member,
            },
          ];
        }),
      ),
    },
  };
}
