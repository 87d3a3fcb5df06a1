import { runService } from "@syncstack/shared";
import { syncService } from "./app.ts";
import { syncEnvSchema } from "./config.ts";

await runService("sync", syncEnvSchema, syncService);
