import type { BucketRecord, NotificationConfig, ObjectRecord } from "./records.ts";

/** An etag that changes with every generation and metageneration, as the API's do. */
function etag(...parts: Array<string | number>): string {
  return Buffer.from(parts.join("/")).toString("base64");
}

/** The JSON API object resource (`storage#object`), also the JSON_API_V1 notification payload. */
export function objectResource(record: ObjectRecord, baseUrl: string): Record<string, unknown> {
  const name = encodeURIComponent(record.name);
  const path = `b/${record.bucket}/o/${name}`;
  return {
    kind: "storage#object",
    id: `${record.bucket}/${record.name}/${record.generation}`,
    selfLink: `${baseUrl}/storage/v1/${path}`,
    mediaLink: `${baseUrl}/download/storage/v1/${path}?generation=${record.generation}&alt=media`,
    name: record.name,
    bucket: record.bucket,
    generation: record.generation,
    metageneration: String(record.metageneration),
    contentType: record.fields.contentType ?? "application/octet-stream",
    storageClass: record.storageClass,
    size: String(record.size),
    md5Hash: record.md5Hash,
    crc32c: record.crc32c,
    etag: etag(record.generation, record.metageneration),
    timeCreated: record.timeCreated,
    updated: record.updated,
    timeStorageClassUpdated: record.timeCreated,
    timeFinalized: record.timeCreated,
    ...record.fields,
  };
}

/** The JSON API bucket resource (`storage#bucket`). */
export function bucketResource(record: BucketRecord, baseUrl: string): Record<string, unknown> {
  return {
    location: "US",
    locationType: "multi-region",
    storageClass: "STANDARD",
    ...record.settings,
    kind: "storage#bucket",
    id: record.name,
    selfLink: `${baseUrl}/storage/v1/b/${record.name}`,
    projectNumber: "0",
    name: record.name,
    timeCreated: record.timeCreated,
    updated: record.updated,
    metageneration: String(record.metageneration),
    etag: etag(record.metageneration),
  };
}

/** The notification configuration resource (`storage#notification`). */
export function notificationResource(
  bucket: string,
  config: NotificationConfig,
  baseUrl: string,
): Record<string, unknown> {
  return {
    kind: "storage#notification",
    selfLink: `${baseUrl}/storage/v1/b/${bucket}/notificationConfigs/${config.id}`,
    etag: config.id,
    ...config,
  };
}
