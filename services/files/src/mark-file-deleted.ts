import { Timestamp } from "@google-cloud/firestore";
import type { ServiceContext, StorageObject } from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";
import { ownerOf } from "./file-owner.ts";
import { publishRecordEvent, readRecord, writeRecord } from "./file-records.ts";
import { removeThumbnails } from "./thumbnail-storage.ts";

/**
 * OBJECT_DELETE of the recorded generation: removes its thumbnails and marks the record
 * deleted; a repeated delete publishes the record's event again in case it never went out.
 */
export async function markFileDeleted(
  context: ServiceContext<FilesConfig>,
  id: string,
  object: StorageObject,
): Promise<void> {
  const { config } = context;
  const owner = ownerOf(object.name);
  const current = await readRecord(context.firestore, id, config.DEADLINE_MS);
  // A delete of an older generation is what overwriting sends; the newer record stays.
  if (current.generation !== object.generation) return;
  if (!current.deleted) {
    await removeThumbnails(context, current.thumbnails);
    const written = await writeRecord(
      context.firestore,
      id,
      {
        deleted: true,
        deleted_at: Timestamp.now(),
        thumbnail_generated: false,
        thumbnails: [],
        thumbnail_url: null,
      },
      "delete",
      config.DEADLINE_MS,
      (latest) => latest.generation === object.generation && !latest.deleted,
      current,
    );
    if (written) await publishRecordEvent(context.publisher, id, written, owner);
    return;
  }
  if (current.version > 0 && current.updateTime) {
    await publishRecordEvent(
      context.publisher,
      id,
      {
        version: current.version,
        op: current.lastOp,
        committedAt: current.updateTime,
      },
      owner,
    );
  }
}
