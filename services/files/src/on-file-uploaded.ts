import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Timestamp } from "@google-cloud/firestore";
import {
  AppError,
  consumer,
  fileUploaded,
  type ServiceContext,
  type StorageObject,
  withDeadline,
} from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";
import { detectContentType, imageTypes } from "./detect-content-type.ts";
import { downloadObject } from "./download-object.ts";
import { fileId, publicUrl } from "./file-id.ts";
import {
  isNewer,
  publishRecordEvent,
  type RecordState,
  readRecord,
  writeRecord,
} from "./file-records.ts";
import { makeThumbnails } from "./make-thumbnails.ts";

/**
 * `file-uploaded` (Cloud Storage notifications): OBJECT_FINALIZE records the file and makes
 * thumbnails of images; OBJECT_DELETE marks the record deleted and removes its thumbnails.
 * Idempotent by (bucket, object, generation); an older generation never overwrites a newer one.
 */
export function onFileUploaded(context: ServiceContext<FilesConfig>) {
  return consumer(fileUploaded, async ({ data: object, attributes, logger }) => {
    const id = fileId(object.bucket, object.name);
    if (attributes.eventType === "OBJECT_DELETE") return deleted(context, id, object);
    if (attributes.eventType !== "OBJECT_FINALIZE") return;
    const current = await readRecord(context.firestore, id, context.config.DEADLINE_MS);
    if (current.generation === object.generation) {
      // Processed before: nothing is written; the event is sent again in case it never went out.
      if (current.version > 0 && current.updateTime) {
        await publishRecordEvent(context.publisher, id, {
          version: current.version,
          op: current.lastOp,
          committedAt: current.updateTime,
        });
      }
      return;
    }
    if (!isNewer(current, object.generation)) {
      logger.info("older generation arrived late; ignored", { id, generation: object.generation });
      return;
    }
    await withDeadline(`files.process ${object.name}`, context.config.PROCESSING_DEADLINE_MS, () =>
      finalized(context, id, object, current),
    );
  });
}

async function finalized(
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
      thumbnail_generated: false,
      thumbnails: [],
      processing_note: null,
    };
    if (download.path) {
      Object.assign(record, await thumbnailsFor(context, download.path, object));
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
  await publishRecordEvent(context.publisher, id, written);
  // The replaced generation's thumbnails (its OBJECT_DELETE leaves the newer record alone).
  await removeThumbnails(context, previous.thumbnails);
}

async function removeThumbnails(
  context: ServiceContext<FilesConfig>,
  thumbnails: readonly { name: string }[],
): Promise<void> {
  const bucket = context.storage.bucket(context.config.THUMBNAILS_BUCKET);
  for (const thumbnail of thumbnails) {
    await withDeadline(`storage.delete ${thumbnail.name}`, context.config.DEADLINE_MS, () =>
      bucket.file(thumbnail.name).delete({ ignoreNotFound: true }),
    ).catch(storageError(`deleting ${thumbnail.name}`));
  }
}

async function thumbnailsFor(
  context: ServiceContext<FilesConfig>,
  path: string,
  object: StorageObject,
): Promise<Record<string, unknown>> {
  const { config, storage } = context;
  const outcome = await makeThumbnails(path, config.THUMBNAIL_SIZES, config.MAX_IMAGE_PIXELS);
  if (!outcome.ok) return { processing_note: outcome.reason };
  const thumbnails = await Promise.all(
    outcome.thumbnails.map(async (thumbnail) => {
      const name = `${object.name}/g${object.generation}-${thumbnail.size}.webp`;
      await withDeadline(`storage.upload ${name}`, config.DEADLINE_MS * 2, () =>
        storage
          .bucket(config.THUMBNAILS_BUCKET)
          .file(name)
          .save(thumbnail.data, {
            resumable: false,
            contentType: "image/webp",
            metadata: {
              metadata: {
                source_bucket: object.bucket,
                source_object: object.name,
                source_generation: object.generation,
              },
            },
          }),
      ).catch(storageError(`uploading ${name}`));
      return {
        size: thumbnail.size,
        width: thumbnail.width,
        height: thumbnail.height,
        name,
        url: publicUrl(config.PUBLIC_BASE_URL, config.THUMBNAILS_BUCKET, name),
      };
    }),
  );
  return {
    width: outcome.width,
    height: outcome.height,
    format: outcome.format,
    thumbnail_generated: true,
    thumbnail_url: thumbnails[0]?.url ?? null,
    thumbnails,
  };
}

async function deleted(
  context: ServiceContext<FilesConfig>,
  id: string,
  object: StorageObject,
): Promise<void> {
  const { config } = context;
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
    if (written) await publishRecordEvent(context.publisher, id, written);
    return;
  }
  if (current.version > 0 && current.updateTime) {
    await publishRecordEvent(context.publisher, id, {
      version: current.version,
      op: current.lastOp,
      committedAt: current.updateTime,
    });
  }
}

function storageError(what: string) {
  return (error: unknown): never => {
    if (error instanceof AppError) throw error;
    throw new AppError("unavailable", `${what} failed`, { cause: error });
  };
}
