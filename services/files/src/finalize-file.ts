import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Timestamp } from "@google-cloud/firestore";
import { type ServiceContext, type StorageObject, withDeadline } from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";
import { detectContentType, imageTypes } from "./detect-content-type.ts";
import { downloadObject } from "./download-object.ts";
import { publicUrl } from "./file-id.ts";
import { ownerOf } from "./file-owner.ts";
import { isNewer, publishRecordEvent, type RecordState, writeRecord } from "./file-records.ts";
import { storageError } from "./storage-error.ts";
import { removeThumbnails, storeThumbnails } from "./thumbnail-storage.ts";

/**
 * OBJECT_FINALIZE of a generation newer than the record's: downloads the object (its head
 * only, unless it is an image to thumbnail), records its type, size and metadata with its
 * thumbnails, publishes the record's event and removes the replaced generation's thumbnails.
 */
export async function finalizeFile(
  context: ServiceContext<FilesConfig>,
  id: string,
  object: StorageObject,
  previous: RecordState,
): Promise<void> {
  const { config, storage } = context;
  const file = storage.bucket(object.bucket).file(object.name, { generation: object.generation });
  const size = Number(object.size);
  const directory = await mkdtemp(join(tmpdir(), "syncstack-files-"));
  try {
    const download = await withDeadline(
      `storage.download ${object.name}`,
      config.PROCESSING_DEADLINE_MS,
      () =>
        downloadObject(file, join(directory, "original"), async (head) => {
          const type = await detectContentType(head, object.contentType);
          return imageTypes.has(type) && size <= config.MAX_IMAGE_BYTES;
        }),
    ).catch(storageError(`downloading ${object.name}`));
    if (!download) return; // this generation is gone: a later notification covers what replaced it
    const contentType = await detectContentType(download.head, object.contentType);
    const record: Record<string, unknown> = {
      name: object.name,
      bucket: object.bucket,
      owner: ownerOf(object.name),
      content_type: contentType,
      declared_content_type: object.contentType ?? null,
      size,
      created: Timestamp.fromDate(new Date(object.timeCreated)),
      updated: Timestamp.fromDate(new Date(object.updated)),
      metadata: object.metadata ?? {},
      public_url: publicUrl(config.PUBLIC_BASE_URL, object.bucket, object.name),
      md5: object.md5Hash ?? null,
      crc32c: object.crc32c ?? null,
      generation: object.generation,
      processed: true,
      deleted: false,
      // A generation recorded after the one before it was deleted is not deleted.
      deleted_at: null,
      thumbnail_generated: false,
      thumbnails: [],
      processing_note: null,
    };
    if (download.path) {
      Object.assign(record, await storeThumbnails(context, download.path, object));
    } else if (imageTypes.has(contentType)) {
      record.processing_note = `image of ${size} bytes is over the limit of ${config.MAX_IMAGE_BYTES}`;
    } else {
      record.processing_note = `no thumbnail for ${contentType}`;
    }
    await writeFileRecord(context, id, object, record, previous);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

async function writeFileRecord(
  context: ServiceContext<FilesConfig>,
  id: string,
  object: StorageObject,
  record: Record<string, unknown>,
  previous: RecordState,
): Promise<void> {
  const { config } = context;
  const written = await writeRecord(
    context.firestore,
    id,
    record,
    undefined,
    config.DEADLINE_MS,
    (current) => isNewer(current, object.generation),
    previous,
  );
  if (!written) return;
  await publishRecordEvent(context.publisher, id, written, ownerOf(object.name));
  // The replaced generation's thumbnails (its OBJECT_DELETE leaves the newer record alone).
  await removeThumbnails(context, previous.thumbnails);
}
