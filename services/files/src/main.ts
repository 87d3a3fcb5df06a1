import { runService } from "@syncstack/shared";
import { filesService } from "./app.ts";
import { filesEnvSchema } from "./config.ts";

await runService("files", filesEnvSchema, filesService);
