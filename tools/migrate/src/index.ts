export { defaultCheckpointPath, defaultReportPath } from "./checkpoint.ts";
export type { MigrationTransform } from "./load-transform.ts";
export { runMigration } from "./run-migration.ts";
