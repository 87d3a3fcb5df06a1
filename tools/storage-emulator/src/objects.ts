import type { IncomingMessage, ServerResponse } from "node:http";
import { noSuchObject } from "./api-error.ts";
import { removeObject } from "./commit-object.ts";
import type { Context, Target } from "./context.ts";
import { sendMedia } from "./download.ts";
import { readJson, sendJson } from "./http.ts";
import { listOptions, listPage } from "./list-objects.ts";
import { checkConditions, conditionsFrom } from "./preconditions.ts";
import { applyFields, type ObjectRecord } from "./records.ts";
import { objectResource } from "./resources.ts";

/** The live object, checked against `generation` and the read or write preconditions. */
export function findObject(
  ctx: Context,
  bucket: string,
  name: string,
  query: URLSearchParams,
  read: boolean,
): ObjectRecord {
  ctx.state.bucket(bucket);
  const record = ctx.state.object(bucket, name);
  const generation = query.get("generation");
  if (!record || (generation !== null && generation !== record.generation)) {
    throw noSuchObject(bucket, name);
  }
  checkConditions(record, conditionsFrom(query), read);
  return record;
}

/** `objects.get`: the resource, or with `alt=media` the bytes. */
export async function getObject(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  name: string,
  target: Target,
): Promise<void> {
  const record = findObject(ctx, bucket, name, target.query, true);
  if (target.query.get("alt") === "media") await sendMedia(ctx, req, res, record);
  else sendJson(res, 200, objectResource(record, target.baseUrl));
}

/**
 * `objects.patch` merges the writable fields (content type, cache control, custom metadata,
 * ...); `objects.update` (PUT) replaces them. Either bumps the metageneration.
 */
export async function updateObject(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  name: string,
  target: Target,
): Promise<void> {
  const body = await readJson(req);
  const current = findObject(ctx, bucket, name, target.query, false);
  const base = req.method === "PUT" ? {} : current.fields;
  const record: ObjectRecord = {
    ...current,
    fields: applyFields(base, body),
    metageneration: current.metageneration + 1,
    updated: new Date().toISOString(),
  };
  await ctx.state.saveObject(record);
  const bucketRecord = ctx.state.bucket(bucket);
  ctx.notifier.notify(bucketRecord, "OBJECT_METADATA_UPDATE", record, target.baseUrl);
  sendJson(res, 200, objectResource(record, target.baseUrl));
}

/** `objects.delete`: 204, and OBJECT_DELETE to the bucket's notification configs. */
export async function deleteObject(
  ctx: Context,
  res: ServerResponse,
  bucket: string,
  name: string,
  target: Target,
): Promise<void> {
  const record = findObject(ctx, bucket, name, target.query, false);
  await removeObject(ctx, record, target.baseUrl);
  res.writeHead(204).end();
}

/** `objects.list` with prefix, delimiter, page tokens and offsets. */
export function listObjects(
  ctx: Context,
  res: ServerResponse,
  bucket: string,
  target: Target,
): void {
  const page = listPage(ctx.state.objects(bucket), listOptions(target.query));
  sendJson(res, 200, {
    kind: "storage#objects",
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
    ...(page.prefixes.length > 0 ? { prefixes: page.prefixes } : {}),
    ...(page.items.length > 0
      ? { items: page.items.map((item) => objectResource(item, target.baseUrl)) }
      : {}),
  });
}
