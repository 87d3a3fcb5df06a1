import { z } from "zod";
import { formatVersion } from "./backup-objects.ts";

/** `manifest.json`: what a backup holds and how to check it. */
export const manifestSchema = z.object({
  format_version: z.number().int().min(1),
  backup_id: z.string().min(1),
  project_id: z.string().min(1),
  /** The one read time every page of every collection was read at. */
  read_time: z.object({ seconds: z.number().int(), nanoseconds: z.number().int() }),
  read_time_iso: z.string(),
  codec: z.literal("syncstack-firestore-json-1"),
  compression: z.literal("gzip"),
  collections: z.array(
    z.object({
      name: z.string().min(1),
      object: z.string().min(1),
      documents: z.number().int().min(0),
      bytes: z.number().int().min(0),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
    }),
  ),
  document_count: z.number().int().min(0),
});
export type Manifest = z.output<typeof manifestSchema>;

/** Builds a backup's manifest from what its collections' exports reported. */
export function buildManifest(
  backupId: string,
  projectId: string,
  readTime: { seconds: number; nanoseconds: number; toDate(): Date },
  collections: Manifest["collections"],
): Manifest {
  return {
    format_version: formatVersion,
    backup_id: backupId,
    project_id: projectId,
    read_time: { seconds: readTime.seconds, nanoseconds: readTime.nanoseconds },
    read_time_iso: readTime.toDate().toISOString(),
    codec: "syncstack-firestore-json-1",
    compression: "gzip",
    collections,
    document_count: collections.reduce((sum, c) => sum + c.documents, 0),
  };
}

/** Parses a manifest's text; a newer format or a malformed file is refused. */
export function parseManifest(text: string): Manifest {
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`the manifest is malformed: ${parsed.error.message}`);
  if (parsed.data.format_version > formatVersion) {
    throw new Error(
      `the manifest's format_version ${parsed.data.format_version} is newer than ${formatVersion}`,
    );
  }
  return parsed.data;
}
