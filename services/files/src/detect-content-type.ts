import { fileTypeFromBuffer } from "file-type";

/** Image formats sharp makes thumbnails of. */
export const imageTypes: ReadonlySet<string> = new Set([
  "image/jpeg",
  "image/png",
  "image/webp",
  "image/gif",
  "image/avif",
  "image/tiff",
]);

/**
 * The content type the first bytes of a file show, by file-type's magic numbers, or undefined
 * when they show no format it knows. It reads up to 4,100 bytes (its sample size).
 */
export async function sniffContentType(head: Uint8Array): Promise<string | undefined> {
  return (await fileTypeFromBuffer(head))?.mime;
}

/**
 * The content type to record: what the bytes show; else the declared type, unless it claims
 * a format the bytes would have shown (a lie), in which case nothing is trusted.
 */
export async function detectContentType(
  head: Uint8Array,
  declared: string | undefined,
): Promise<string> {
  const sniffed = await sniffContentType(head);
  if (sniffed) return sniffed;
  const claimed = declared?.split(";")[0]?.trim().toLowerCase();
  if (!claimed || imageTypes.has(claimed) || claimed === "application/pdf")
    return "application/octet-stream";
  return claimed;
}
