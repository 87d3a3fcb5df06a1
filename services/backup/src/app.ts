import {
  type ServiceContext,
  type ServiceDefinition,
  type TokenVerifier,
  tokenVerifierFor,
} from "@syncstack/shared";
import { adminRoutes } from "./admin-routes.ts";
import type { BackupConfig } from "./config.ts";
import { firestoreFor } from "./firestore-client.ts";
import { onBackupRequested } from "./on-backup-requested.ts";
import { restoreRoutes } from "./restore-route.ts";

/** The backup service: Backs up Firestore to Cloud Storage, with retention and restore. */
export function backupService(
  context: ServiceContext<BackupConfig>,
  verifyToken: TokenVerifier = tokenVerifierFor(context.config),
): ServiceDefinition {
  const exportDb = firestoreFor(context.config, context.config.GOOGLE_CLOUD_PROJECT, true);
  return {
    consumers: [
      onBackupRequested({
        db: context.firestore,
        exportDb,
        storage: context.storage,
        publisher: context.publisher,
        logger: context.logger,
        config: context.config,
      }),
    ],
    routes: (app) => {
      adminRoutes(context, verifyToken)(app);
      restoreRoutes(context, verifyToken)(app);
    },
    start: () => async () => {
      await exportDb.terminate();
    },
  };
}

/** The environment the service reads, for tools that build the app in-process. */
export { backupEnvSchema, defaultBackupPageSize } from "./config.ts";
export { leasePath } from "./lease.ts";
export { restoreBackup } from "./restore.ts";
