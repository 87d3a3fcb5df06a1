import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
import type { z } from "zod";

/** The backup service's environment. */
export const backupEnvSchema = withDefaultPort(baseEnvSchema, 8083);
export type BackupConfig = z.infer<typeof backupEnvSchema>;
