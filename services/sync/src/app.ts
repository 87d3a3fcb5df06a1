import type { ServiceContext, ServiceDefinition } from "@syncstack/shared";
import type { SyncConfig } from "./config.ts";

/** The sync service: HTTP ingress, change feed and user profiles. */
export function syncService(_context: ServiceContext<SyncConfig>): ServiceDefinition {
  return { consumers: [] };
}
