import { baseEnvSchema, withDefaultPort } from "@syncstack/shared";
import { z } from "zod";

const sizes = z
  .string()
  .regex(/^\d{2,4}(,\d{2,4})*$/, "must be comma-separated pixel sizes, e.g. 200,800")
  .transform((text) => [...new Set(text.split(",").map(Number))].sort((a, b) => a - b));

/** The files service's environment. */
export const filesEnvSchema = withDefaultPort(
  baseEnvSchema.extend({
    UPLOADS_BUCKET: z.string().min(3).default("demo-syncstack-uploads"),
    THUMBNAILS_BUCKET: z.string().min(3).default("demo-syncstack-thumbnails"),
    /** Long-side sizes of the thumbnails made for each image. */
    THUMBNAIL_SIZES: sizes.default([200, 800]),
    /** Images with more pixels than this are refused (a decompression bomb). */
    MAX_IMAGE_PIXELS: z.coerce.number().int().min(1).default(100_000_000),
    /** Images larger than this are recorded without thumbnails. */
    MAX_IMAGE_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .default(64 * 1_048_576),
    /** Where a file's public URL points (the storage emulator locally). */
    PUBLIC_BASE_URL: z.url().optional(),
    /** Deadline of processing one file (download, thumbnails, upload). */
    PROCESSING_DEADLINE_MS: z.coerce.number().int().min(1_000).default(90_000),
  }),
  8082,
);
export type FilesConfig = z.infer<typeof filesEnvSchema>;
