import type { ServiceName } from "@syncstack/shared";
import type { BucketRole } from "@syncstack/shared/provision";
import { ref } from "./terraform.ts";

/** The Cloud Run service (and service account id) of a syncstack service. */
export function cloudRunName(service: ServiceName): string {
  return `syncstack-${service}`;
}

/** The email of a service's own service account. */
export function serviceAccountEmail(service: ServiceName): string {
  return ref("google_service_account", service, "email");
}

/** The IAM member of a service's account. */
export function serviceMember(service: ServiceName): string {
  return `serviceAccount:${serviceAccountEmail(service)}`;
}

/** The account Pub/Sub signs push tokens as; only it may push to the services. */
export const pushAccountId = "syncstack-push";
export const pushAccountEmail = ref("google_service_account", "push", "email");

/**
 * A service's deterministic Cloud Run URL, the audience of its push tokens (known before the
 * service exists, so the service can be told its own audience).
 */
export function serviceAudience(service: ServiceName): string {
  return `https://${cloudRunName(service)}-\${local.project_number}.\${var.region}.run.app`;
}

/** The name of a bucket, from the bucket variables. */
export function bucketName(role: BucketRole): string {
  return `\${local.buckets.${role}}`;
}
