import { consumer, fileUploaded, type ServiceContext, withDeadline } from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";
import { fileId } from "./file-id.ts";
import { ownerOf } from "./file-owner.ts";
import { isNewer, publishRecordEvent, readRecord } from "./file-records.ts";
import { finalizeFile } from "./finalize-file.ts";
import { markFileDeleted } from "./mark-file-deleted.ts";

/**
 * `file-uploaded` (Cloud Storage notifications): OBJECT_FINALIZE records the file and makes
 * thumbnails of images; OBJECT_DELETE marks the record deleted and removes its thumbnails.
 * Idempotent by (bucket, object, generation); an older generation never overwrites a newer one.
 */
export function onFileUploaded(context: ServiceContext<FilesConfig>) {
  return consumer(fileUploaded, async ({ data: object, attributes, logger }) => {
    const id = fileId(object.bucket, object.name);
    if (attributes.eventType === "OBJECT_DELETE") return markFileDeleted(context, id, object);
    if (attributes.eventType !== "OBJECT_FINALIZE") return;
    const current = await readRecord(context.firestore, id, context.config.DEADLINE_MS);
    if (current.generation === object.generation) {
      // Processed before: nothing is written; the event is sent again in case it never went out.
      if (current.version > 0 && current.updateTime) {
        await publishRecordEvent(
          context.publisher,
          id,
          { version: current.version, op: current.lastOp, committedAt: current.updateTime },
          ownerOf(object.name),
        );
      }
      return;
    }
    if (!isNewer(current, object.generation)) {
      logger.info("older generation arrived late; ignored", { id, generation: object.generation });
      return;
    }
    await withDeadline(`files.process ${object.name}`, context.config.PROCESSING_DEADLINE_MS, () =>
      finalizeFile(context, id, object, current),
    );
  });
}
