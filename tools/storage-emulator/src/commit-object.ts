import type { Checksums } from "./content-hasher.ts";
import type { Context } from "./context.ts";
import { checkConditions } from "./preconditions.ts";
import type { BucketRecord, ObjectFields, ObjectRecord } from "./records.ts";

/** Bytes already in a blob that are to become an object's new generation. */
export interface NewObject {
  bucket: string;
  name: string;
  fields: ObjectFields;
  blob: string;
  size: number;
  checksums: Checksums;
  conditions: Record<string, string>;
  storageClass?: string;
}

/**
 * Makes a blob the live generation of an object: checks the preconditions against the current
 * generation (and drops the blob if they fail), replaces it, and publishes OBJECT_FINALIZE, plus
 * OBJECT_DELETE for an overwritten generation, as Cloud Storage does.
 */
export async function commitObject(
  ctx: Context,
  input: NewObject,
  baseUrl: string,
): Promise<ObjectRecord> {
  let bucket: BucketRecord;
  let current: ObjectRecord | undefined;
  try {
    bucket = ctx.state.bucket(input.bucket);
    current = ctx.state.object(input.bucket, input.name);
    checkConditions(current, input.conditions);
  } catch (error) {
    await ctx.blobs.remove(input.blob);
    throw error;
  }
  const now = new Date().toISOString();
  const record: ObjectRecord = {
    bucket: input.bucket,
    name: input.name,
    generation: ctx.state.nextGeneration(),
    metageneration: 1,
    size: input.size,
    ...input.checksums,
    storageClass: input.storageClass ?? String(bucket.settings.storageClass ?? "STANDARD"),
    timeCreated: now,
    updated: now,
    fields: input.fields,
    blob: input.blob,
  };
  await ctx.state.saveObject(record);
  if (current) await ctx.blobs.remove(current.blob);
  const overwrote: Record<string, string> = current
    ? { overwroteGeneration: current.generation }
    : {};
  ctx.notifier.notify(bucket, "OBJECT_FINALIZE", record, baseUrl, overwrote);
  if (current) {
    ctx.notifier.notify(bucket, "OBJECT_DELETE", current, baseUrl, {
      overwrittenByGeneration: record.generation,
    });
  }
  return record;
}

/** Deletes the live generation of an object and publishes OBJECT_DELETE. */
export async function removeObject(
  ctx: Context,
  record: ObjectRecord,
  baseUrl: string,
): Promise<void> {
  const bucket = ctx.state.bucket(record.bucket);
  await ctx.state.deleteObject(record);
  await ctx.blobs.remove(record.blob);
  ctx.notifier.notify(bucket, "OBJECT_DELETE", record, baseUrl);
}
