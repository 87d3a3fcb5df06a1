import { runService } from "@syncstack/shared";
import { backupService } from "./app.ts";
import { backupEnvSchema } from "./config.ts";

await runService("backup", backupEnvSchema, backupService);
