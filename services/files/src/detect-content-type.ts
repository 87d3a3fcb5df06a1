/** Image formats sharp makes thumbnails of. */
export const imageTypes: ReadonlySet<string> = new Set([
  "image/jpeg",
  "image/png",
  "image/webp",
  "image/gif",
  "image/avif",
  "image/tiff",
]);

const ascii = (bytes: Uint8Array, offset: number, text: string) =>
  text.split("").every((char, i) => bytes[offset + i] === char.charCodeAt(0));

/**
 * The content type the first bytes of a file show (magic numbers), or undefined when they
 * show none of the known formats. 32 bytes are enough for every format here.
 */
export function sniffContentType(head: Uint8Array): string | undefined {
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (ascii(head, 0, "\x89PNG\r\n\x1a\n")) return "image/png";
  if (ascii(head, 0, "GIF87a") || ascii(head, 0, "GIF89a")) return "image/gif";
  if (ascii(head, 0, "RIFF") && ascii(head, 8, "WEBP")) return "image/webp";
  if (ascii(head, 4, "ftyp") && (ascii(head, 8, "avif") || ascii(head, 8, "avis")))
    return "image/avif";
  if (
    ascii(head, 4, "ftyp") &&
    (ascii(head, 8, "heic") || ascii(head, 8, "heix") || ascii(head, 8, "mif1"))
  ) {
    return "image/heic";
  }
  if (ascii(head, 0, "II*\x00") || ascii(head, 0, "MM\x00*")) return "image/tiff";
  if (ascii(head, 0, "%PDF-")) return "application/pdf";
  if (ascii(head, 0, "PK\x03\x04")) return "application/zip";
  if (head[0] === 0x1f && head[1] === 0x8b) return "application/gzip";
  if (ascii(head, 4, "ftyp")) return "video/mp4";
  return undefined;
}

/**
 * The content type to record: what the bytes show; else the declared type, unless it claims
 * a format the bytes would have shown (a lie), in which case nothing is trusted.
 */
export function detectContentType(head: Uint8Array, declared: string | undefined): string {
  const sniffed = sniffContentType(head);
  if (sniffed) return sniffed;
  const claimed = declared?.split(";")[0]?.trim().toLowerCase();
  if (!claimed || imageTypes.has(claimed) || claimed === "application/pdf")
    return "application/octet-stream";
  return claimed;
}
