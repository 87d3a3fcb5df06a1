import type { Firestore } from "@google-cloud/firestore";
import { backupRequested, type Publisher, withDeadline } from "@syncstack/shared";
import { backupsCollection, newBackupId } from "./backup-records.ts";

/** Publishes a manual `backup-requested` naming the id its record will get; answers the id. */
export async function requestBackup(publisher: Publisher, now = new Date()): Promise<string> {
  const id = newBackupId(now);
  await publisher.publish(backupRequested, {
    requested_at: now.toISOString(),
    type: "manual",
    backup_id: id,
  });
  return id;
}

/** A backup's record once it ended: `completed`, `failed` or `skipped`. */
export interface FinishedBackup {
  id: string;
  status: "completed" | "failed" | "skipped";
  reason: string | null;
  document_count: number | null;
  created_at: Date | null;
  ended_at: Date | null;
}

/**
 * Polls `backups/{id}` until it ends or `timeoutMs` passes (undefined then: still missing or
 * in progress).
 */
export async function waitForBackup(options: {
  db: Firestore;
  id: string;
  timeoutMs: number;
  pollMs?: number;
  deadlineMs: number;
}): Promise<FinishedBackup | undefined> {
  const until = Date.now() + options.timeoutMs;
  for (;;) {
    const record = await withDeadline("firestore.backups.get", options.deadlineMs, () =>
      options.db.collection(backupsCollection).doc(options.id).get(),
    );
    const status = record.get("status") as string | undefined;
    if (status === "completed" || status === "failed" || status === "skipped") {
      const dateOf = (field: string) =>
        (record.get(field) as { toDate(): Date } | undefined)?.toDate() ?? null;
      return {
        id: options.id,
        status,
        reason: (record.get("reason") as string | undefined) ?? null,
        document_count: (record.get("document_count") as number | undefined) ?? null,
        created_at: dateOf("created_at"),
        ended_at: dateOf("completed_at") ?? dateOf("failed_at") ?? dateOf("created_at"),
      };
    }
    if (Date.now() >= until) return undefined;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}
