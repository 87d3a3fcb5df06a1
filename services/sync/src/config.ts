import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
import type { z } from "zod";

/** The sync service's environment. */
export const syncEnvSchema = withDefaultPort(baseEnvSchema, 8081);
export type SyncConfig = z.infer<typeof syncEnvSchema>;
