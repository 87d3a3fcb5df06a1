import sharp, { type Metadata } from "sharp";

// Bounded memory on a small instance: no libvips operation cache, one thread per image.
sharp.cache(false);
sharp.concurrency(1);

/** A thumbnail made from an image, ready to upload. */
export interface Thumbnail {
  size: number;
  width: number;
  height: number;
  data: Buffer;
}

/** What the image is, and its thumbnails, or why it has none. */
export type ThumbnailOutcome =
  | { ok: true; width: number; height: number; format: string; thumbnails: Thumbnail[] }
  | { ok: false; reason: string };

/**
 * Makes WebP thumbnails, the long side at each size (aspect kept, never enlarged, EXIF
 * orientation applied), from an image file on disk: libvips reads it from the file instead
 * of holding it in memory. A decompression bomb or a corrupt image is an outcome, not an error.
 */
export async function makeThumbnails(
  path: string,
  sizes: readonly number[],
  maxPixels: number,
): Promise<ThumbnailOutcome> {
  let metadata: Metadata;
  try {
    metadata = await sharp(path, { limitInputPixels: maxPixels }).metadata();
  } catch (error) {
    return { ok: false, reason: `not a readable image: ${(error as Error).message}` };
  }
  const { width, height, format } = metadata;
  if (!width || !height || !format) return { ok: false, reason: "the image has no dimensions" };
  if (width * height > maxPixels) {
    return {
      ok: false,
      reason: `image of ${width}x${height} pixels is over the limit of ${maxPixels}`,
    };
  }
  // Orientations 5-8 swap the sides once the EXIF rotation is applied.
  const swapped = (metadata.orientation ?? 1) >= 5;
  const [uprightWidth, uprightHeight] = swapped ? [height, width] : [width, height];
  try {
    const thumbnails: Thumbnail[] = [];
    for (const size of sizes) {
      const { data, info } = await sharp(path, { limitInputPixels: maxPixels, failOn: "error" })
        .rotate()
        .resize({ width: size, height: size, fit: "inside", withoutEnlargement: true })
        .webp({ quality: 80 })
        .toBuffer({ resolveWithObject: true });
      thumbnails.push({ size, width: info.width, height: info.height, data });
    }
    return { ok: true, width: uprightWidth, height: uprightHeight, format, thumbnails };
  } catch (error) {
    return { ok: false, reason: `the image could not be decoded: ${(error as Error).message}` };
  }
}
