import { type ServiceContext, type StorageObject, traced, withDeadline } from "@syncstack/shared";
import type { FilesConfig } from "./config.ts";
import { publicUrl } from "./file-id.ts";
import { makeThumbnails } from "./make-thumbnails.ts";
import { storageError } from "./storage-error.ts";

/**
 * Makes the image's thumbnails and stores them in the thumbnails bucket, one object per size
 * named after the source generation; returns the record fields that describe them (or a
 * processing note when the image cannot be thumbnailed).
 */
export async function storeThumbnails(
  context: ServiceContext<FilesConfig>,
  path: string,
  object: StorageObject,
): Promise<Record<string, unknown>> {
  const { config, storage } = context;
  const outcome = await traced("files thumbnails", { "syncstack.object": object.name }, () =>
    makeThumbnails(path, config.THUMBNAIL_SIZES, config.MAX_IMAGE_PIXELS),
  );
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

/** Deletes stored thumbnails; one already gone is fine. */
export async function removeThumbnails(
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
