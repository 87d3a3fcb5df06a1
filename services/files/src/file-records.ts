import { FieldValue, type Firestore, type Timestamp } from "@google-cloud/firestore";
import {
  type CollectionName,
  grpcCodeOf,
  type Publisher,
  preconditionFailures,
  realtimeUpdates,
  withDeadline,
} from "@syncstack/shared";
import { compareGenerations } from "./file-id.ts";

/** The collection of file records (docs/contract.md). */
export const filesCollection = "files" satisfies CollectionName;

/** What is already recorded for an object. */
export interface RecordState {
  generation: string | undefined;
  version: number;
  deleted: boolean;
  lastOp: "create" | "update" | "delete";
  updateTime: Timestamp | undefined;
  thumbnails: { name: string }[];
}

function stateOf(snapshot: FirebaseFirestore.DocumentSnapshot): RecordState {
  return {
    generation: snapshot.get("generation") as string | undefined,
    version: Number(snapshot.get("version") ?? 0),
    deleted: snapshot.get("deleted") === true,
    lastOp: (snapshot.get("last_op") as RecordState["lastOp"] | undefined) ?? "create",
    updateTime: snapshot.updateTime,
    thumbnails: (snapshot.get("thumbnails") as { name: string }[] | undefined) ?? [],
  };
}

/** Reads what the record of `id` says, for idempotency decisions. */
export async function readRecord(
  db: Firestore,
  id: string,
  deadlineMs: number,
): Promise<RecordState> {
  const snapshot = await withDeadline("firestore.files.get", deadlineMs, () =>
    db.collection(filesCollection).doc(id).get(),
  );
  return stateOf(snapshot);
}

/**
 * Writes a record with a precondition on the state it was decided from (exists with that
 * update time, or does not exist), so nothing goes backwards: a record of a newer generation
 * is never overwritten by an older one arriving late. One commit, no transaction; a changed
 * record is read again and `accept` asked again. Returns the new version and commit time,
 * or undefined when `accept` refused.
 */
export async function writeRecord(
  db: Firestore,
  id: string,
  fields: Record<string, unknown>,
  op: "create" | "update" | "delete" | undefined,
  deadlineMs: number,
  accept: (current: RecordState) => boolean,
  known?: RecordState,
): Promise<
  { version: number; op: "create" | "update" | "delete"; committedAt: Timestamp } | undefined
> {
  const ref = db.collection(filesCollection).doc(id);
  let current = known ?? (await readRecord(db, id, deadlineMs));
  for (let attempt = 1; ; attempt++) {
    if (!accept(current)) return undefined;
    const version = current.version + 1;
    const lastOp = op ?? (current.updateTime ? "update" : "create");
    const data = {
      ...fields,
      version,
      last_op: lastOp,
      record_updated_at: FieldValue.serverTimestamp(),
    };
    const { updateTime } = current;
    try {
      const written = await withDeadline("firestore.files.write", deadlineMs, () =>
        updateTime ? ref.update(data, { lastUpdateTime: updateTime }) : ref.create(data),
      );
      return { version, op: lastOp, committedAt: written.writeTime };
    } catch (error) {
      const code = grpcCodeOf(error);
      if (code === undefined || !preconditionFailures.has(code) || attempt >= 5) throw error;
      current = await readRecord(db, id, deadlineMs);
    }
  }
}

/** True when `generation` is newer than what is recorded (or nothing is). */
export function isNewer(current: RecordState, generation: string): boolean {
  return current.generation === undefined || compareGenerations(generation, current.generation) > 0;
}

/**
 * Publishes the `realtime-updates` event of a record's version, with the file's owner as
 * `created_by` when it has one. A redelivered message sends it again (it may not have gone
 * out before the crash that caused the redelivery); consumers deduplicate events by
 * (collection, document, version).
 */
export async function publishRecordEvent(
  publisher: Publisher,
  id: string,
  event: { version: number; op: "create" | "update" | "delete"; committedAt: Timestamp },
  owner: string | null,
): Promise<void> {
  await publisher.publish(realtimeUpdates, {
    collection: filesCollection,
    document: id,
    op: event.op,
    version: event.version,
    source: "files",
    timestamp: event.committedAt.toDate().toISOString(),
    ...(owner === null ? {} : { created_by: owner }),
  });
}
