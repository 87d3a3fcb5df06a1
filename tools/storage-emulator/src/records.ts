import { invalid } from "./api-error.ts";
import type { Checksums } from "./content-hasher.ts";

/** Object fields a client may set on upload, patch, or as a copy's destination. */
export interface ObjectFields {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  customTime?: string;
  metadata?: Record<string, string>;
}

/** The live generation of an object as the emulator keeps it; `blob` holds its bytes. */
export interface ObjectRecord {
  bucket: string;
  name: string;
  generation: string;
  metageneration: number;
  size: number;
  md5Hash: string;
  crc32c: string;
  storageClass: string;
  timeCreated: string;
  updated: string;
  fields: ObjectFields;
  blob: string;
}

/** A bucket notification configuration, in the API's own snake_case field names. */
export interface NotificationConfig {
  id: string;
  topic: string;
  payload_format: "JSON_API_V1" | "NONE";
  event_types?: string[];
  custom_attributes?: Record<string, string>;
  object_name_prefix?: string;
}

/** A bucket; `settings` keeps what the client sent (location, labels, ...) as given. */
export interface BucketRecord {
  name: string;
  project: string;
  timeCreated: string;
  updated: string;
  metageneration: number;
  settings: Record<string, unknown>;
  notifications: NotificationConfig[];
  nextNotificationId: number;
}

/** A resumable upload session; its bytes so far are the blob's, its size is the blob's size. */
export interface UploadSession {
  id: string;
  bucket: string;
  name: string;
  fields: ObjectFields;
  /** The `if*Match` query parameters the session was created with. */
  conditions: Record<string, string>;
  /** Checksums the client declared when it opened the session, checked at the end. */
  declared?: Partial<Checksums>;
  blob: string;
  created: string;
}

const stringFields = [
  "contentType",
  "contentEncoding",
  "contentDisposition",
  "contentLanguage",
  "cacheControl",
  "customTime",
] as const;

/**
 * Applies a client's object resource (or patch) to `base`: a field set to null is cleared,
 * and `metadata` merges key by key, a null value removing that key.
 */
export function applyFields(base: ObjectFields, input: unknown): ObjectFields {
  if (input === undefined || input === null) return { ...base };
  if (typeof input !== "object" || Array.isArray(input)) throw invalid("Invalid object resource.");
  const body = input as Record<string, unknown>;
  const next: ObjectFields = { ...base };
  for (const key of stringFields) {
    if (!(key in body)) continue;
    const value = body[key];
    if (value === null || value === "") delete next[key];
    else if (typeof value === "string") next[key] = value;
    else throw invalid(`Invalid value for ${key}.`);
  }
  if ("metadata" in body) {
    const metadata = body.metadata;
    if (metadata === null) delete next.metadata;
    else if (typeof metadata === "object" && !Array.isArray(metadata)) {
      const merged: Record<string, string> = { ...next.metadata };
      for (const [key, value] of Object.entries(metadata as Record<string, unknown>)) {
        if (value === null) delete merged[key];
        else merged[key] = typeof value === "string" ? value : JSON.stringify(value);
      }
      if (Object.keys(merged).length > 0) next.metadata = merged;
      else delete next.metadata;
    } else throw invalid("Invalid value for metadata.");
  }
  return next;
}

/** The object's name from a resource body, when it carries one. */
export function nameIn(input: unknown): string | undefined {
  if (typeof input !== "object" || input === null) return undefined;
  const name = (input as Record<string, unknown>).name;
  return typeof name === "string" && name !== "" ? name : undefined;
}
