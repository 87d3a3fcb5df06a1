import type { ServiceContext, ServiceDefinition } from "@syncstack/shared";
import type { BackupConfig } from "./config.ts";

/** The backup service: Backs up Firestore to Cloud Storage, with retention and restore. */
export function backupService(_context: ServiceContext<BackupConfig>): ServiceDefinition {
  return { consumers: [] };
}
