import type { ServiceContext, ServiceDefinition } from "@syncstack/shared";
import type { AnalyticsConfig } from "./config.ts";

/** The analytics service: User statistics and scheduled aggregation. */
export function analyticsService(_context: ServiceContext<AnalyticsConfig>): ServiceDefinition {
  return { consumers: [] };
}
