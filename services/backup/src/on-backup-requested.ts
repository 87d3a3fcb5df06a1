import { backupRequested, consumer, traced } from "@syncstack/shared";
import { type BackupDeps, runBackup } from "./run-backup.ts";

/**
 * `backup-requested`: runs one backup. A re-push of a message this instance is still
 * working on (the emulator re-pushes at each ack deadline) is acked without a second run;
 * only a failure to record the outcome is retried.
 */
export function onBackupRequested(deps: BackupDeps) {
  const running = new Set<string>();
  return consumer(backupRequested, async (message) => {
    if (running.has(message.id)) {
      message.logger.info("backup request already running here; acked");
      return;
    }
    running.add(message.id);
    try {
      const outcome = await traced(
        "backup run",
        { "syncstack.backup.type": message.data.type },
        () =>
          runBackup({ ...deps, logger: message.logger }, message.data.type, {
            id: message.data.backup_id,
            requestedAt: message.data.requested_at,
          }),
      );
      message.logger.info("backup request handled", { ...outcome });
    } finally {
      running.delete(message.id);
    }
  });
}
