import type { CollectionSpec } from "@syncstack/shared";
import {
  type BucketRole,
  bucketSpecs,
  compositeIndexes,
  fieldPolicies,
} from "@syncstack/shared/provision";
import type { TerraformJson } from "./terraform.ts";

/** The APIs the system uses, enabled first. */
export const requiredApis = [
  "artifactregistry.googleapis.com",
  "cloudscheduler.googleapis.com",
  "firestore.googleapis.com",
  "iam.googleapis.com",
  "monitoring.googleapis.com",
  "pubsub.googleapis.com",
  "run.googleapis.com",
  "storage.googleapis.com",
  "telemetry.googleapis.com",
];

/** The Artifact Registry repository images are pushed to. */
export const imageRepository = "syncstack";

const bucketVariable = (role: BucketRole) => `${role}_bucket`;

/**
 * Provider, variables, the project's number, APIs, the image repository and the database,
 * with the field policies of the collections registry: records with a TTL field are deleted
 * by a TTL policy on it (and the field is not indexed), and fields nothing queries (the
 * outbox's events, one long string per entry) are not indexed: each indexed field costs
 * every write. The composite indexes the registry declares serve the services' queries.
 */
export function renderProject(registry?: readonly CollectionSpec[]): TerraformJson {
  return {
    terraform: {
      required_version: ">= 1.5",
      required_providers: { google: { source: "hashicorp/google", version: "~> 6.0" } },
    },
    provider: { google: { project: "${var.project_id}", region: "${var.region}" } },
    variable: {
      project_id: { type: "string", description: "Google Cloud project to deploy to" },
      region: {
        type: "string",
        default: "us-central1",
        description: "Cloud Run, Scheduler, buckets and images",
      },
      images: {
        type: "map(string)",
        description: "Container image of each service (sync, files, backup, analytics, console)",
      },
      firestore_location: { type: "string", default: "nam5" },
      create_firestore_database: {
        type: "bool",
        default: true,
        description: "Create the (default) Firestore database; false when the project has one",
      },
      traces_exporter: {
        type: "string",
        default: "gcp",
        description: "OTEL_TRACES_EXPORTER of the services",
      },
      log_level: { type: "string", default: "INFO" },
      ...Object.fromEntries(
        bucketSpecs.map((bucket) => [
          bucketVariable(bucket.role),
          {
            type: "string",
            default: null,
            description: `${bucket.role} bucket; default <project>-${bucket.role}`,
          },
        ]),
      ),
    },
    data: { google_project: { project: { project_id: "${var.project_id}" } } },
    locals: {
      project_number: "${data.google_project.project.number}",
      pubsub_agent:
        "serviceAccount:service-${local.project_number}@gcp-sa-pubsub.iam.gserviceaccount.com",
      buckets: Object.fromEntries(
        bucketSpecs.map((bucket) => [
          bucket.role,
          `\${coalesce(var.${bucketVariable(bucket.role)}, "\${var.project_id}-${bucket.role}")}`,
        ]),
      ),
    },
    resource: {
      google_project_service: Object.fromEntries(
        requiredApis.map((api) => [
          api.split(".")[0] as string,
          { service: api, disable_on_destroy: false },
        ]),
      ),
      google_artifact_registry_repository: {
        images: {
          repository_id: imageRepository,
          location: "${var.region}",
          format: "DOCKER",
          description: "syncstack service images",
        },
      },
      google_firestore_database: {
        default: {
          count: "${var.create_firestore_database ? 1 : 0}",
          name: "(default)",
          location_id: "${var.firestore_location}",
          type: "FIRESTORE_NATIVE",
          deletion_policy: "ABANDON",
        },
      },
      google_firestore_field: Object.fromEntries(
        fieldPolicies(registry).map((policy) => [
          policy.id,
          {
            database: "(default)",
            collection: policy.collection,
            field: policy.field,
            // An empty index configuration: the field gets no single-field indexes.
            index_config: {},
            ...(policy.ttl ? { ttl_config: {} } : {}),
            depends_on: ["google_firestore_database.default", "google_project_service.firestore"],
          },
        ]),
      ),
      google_firestore_index: Object.fromEntries(
        compositeIndexes(registry).map((index) => [
          index.id,
          {
            database: "(default)",
            collection: index.collection,
            query_scope: "COLLECTION",
            fields: index.fields.map(({ field, order }) => ({ field_path: field, order })),
            depends_on: ["google_firestore_database.default", "google_project_service.firestore"],
          },
        ]),
      ),
    },
  };
}
