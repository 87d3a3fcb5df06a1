import { runService } from "@syncstack/shared";
import { analyticsService } from "./app.ts";
import { analyticsEnvSchema } from "./config.ts";

await runService("analytics", analyticsEnvSchema, analyticsService);
