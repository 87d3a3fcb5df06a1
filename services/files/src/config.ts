import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
import type { z } from "zod";

/** The files service's environment. */
export const filesEnvSchema = withDefaultPort(baseEnvSchema, 8082);
export type FilesConfig = z.infer<typeof filesEnvSchema>;
