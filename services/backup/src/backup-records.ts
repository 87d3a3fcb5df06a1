import { randomBytes } from "node:crypto";
import { type Firestore, Timestamp } from "@google-cloud/firestore";
import {
  type CollectionName,
  type Logger,
  type Publisher,
  realtimeUpdates,
  withDeadline,
} from "@syncstack/shared";

/** The collection of backup records (docs/contract.md). */
export const backupsCollection = "backups" satisfies CollectionName;

/** A backup record's status; `skipped` records a request that started no backup, and why. */
export type BackupStatus = "in_progress" | "completed" | "failed" | "skipped";

/** A new backup id: sortable by time, unique across instances. */
export function newBackupId(now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(".", "");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/**
 * Writes a backup record's versions and publishes a `realtime-updates` event for each. Events
 * go out in the background (the record is what counts, and the export need not wait on
 * Pub/Sub), in order per record: they share the record's ordering key; `settled` awaits them.
 */
export class BackupRecords {
  readonly #db: Firestore;
  readonly #events: Promise<void>[] = [];
  readonly #publisher: Publisher;
  readonly #deadlineMs: number;
  readonly #logger: Logger;

  constructor(db: Firestore, publisher: Publisher, deadlineMs: number, logger: Logger) {
    this.#db = db;
    this.#publisher = publisher;
    this.#deadlineMs = deadlineMs;
    this.#logger = logger;
  }

  /** Creates the record (version 1); its commit time is the backup's read time. */
  async create(id: string, fields: Record<string, unknown>): Promise<Timestamp> {
    const ref = this.#db.collection(backupsCollection).doc(id);
    const written = await withDeadline("firestore.backups.create", this.#deadlineMs, () =>
      ref.create({ ...fields, created_at: Timestamp.now(), version: 1 }),
    );
    this.#events.push(this.#publish(id, "create", 1, written.writeTime));
    return written.writeTime;
  }

  /** Sets the final state of a record created by `create` (version 2). */
  async finish(id: string, fields: Record<string, unknown>): Promise<void> {
    const ref = this.#db.collection(backupsCollection).doc(id);
    const written = await withDeadline("firestore.backups.update", this.#deadlineMs, () =>
      ref.update({ ...fields, version: 2 }),
    );
    this.#events.push(this.#publish(id, "update", 2, written.writeTime));
  }

  /** Resolves once every event started so far was published (or its failure logged). */
  async settled(): Promise<void> {
    await Promise.all(this.#events);
  }

  async #publish(
    id: string,
    op: "create" | "update",
    version: number,
    at: Timestamp,
  ): Promise<void> {
    // The record is the outcome; a lost event must not turn a finished backup into a retry.
    try {
      await this.#publisher.publish(realtimeUpdates, {
        collection: backupsCollection,
        document: id,
        op,
        version,
        source: "backup",
        timestamp: at.toDate().toISOString(),
      });
    } catch (error) {
      this.#logger.error("publishing the backup record's event failed", { error, backup: id });
    }
  }
}
