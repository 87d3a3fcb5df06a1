import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
import type { z } from "zod";

/** The analytics service's environment. */
export const analyticsEnvSchema = withDefaultPort(baseEnvSchema, 8084);
export type AnalyticsConfig = z.infer<typeof analyticsEnvSchema>;
