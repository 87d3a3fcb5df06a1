import type { IncomingMessage, ServerResponse } from "node:http";
import { noSuchObject } from "./api-error.ts";
import { newBlobId } from "./blob-store.ts";
import { commitObject, removeObject } from "./commit-object.ts";
import type { Context, Target } from "./context.ts";
import { readJson, sendJson } from "./http.ts";
import { checkConditions, conditionsFrom } from "./preconditions.ts";
import { applyFields, type ObjectFields, type ObjectRecord } from "./records.ts";
import { objectResource } from "./resources.ts";

/** Which API call asked for the copy: they differ only in what they answer. */
export type CopyKind = "rewriteTo" | "copyTo" | "moveTo";

/**
 * The destination's fields: the source's, with each field the request body gives replacing
 * the source's (custom `metadata` as a whole, null values becoming ""), as Cloud Storage does.
 */
function destinationFields(source: ObjectFields, body: unknown): ObjectFields {
  if (typeof body !== "object" || body === null) return { ...source };
  const given = body as Record<string, unknown>;
  const base = { ...source };
  if (typeof given.metadata === "object" && given.metadata !== null) {
    delete base.metadata;
    const metadata = Object.entries(given.metadata).map(([key, value]) => [key, value ?? ""]);
    return applyFields(base, { ...given, metadata: Object.fromEntries(metadata) });
  }
  return applyFields(base, given);
}

/**
 * `objects.rewrite`, `objects.copy` and `objects.move`: the source's bytes (at
 * `sourceGeneration` if given) become a new generation of the destination, in one call.
 */
export async function copyObject(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  kind: CopyKind,
  from: { bucket: string; name: string },
  to: { bucket: string; name: string },
  target: Target,
): Promise<void> {
  const body = await readJson(req);
  ctx.state.bucket(from.bucket);
  ctx.state.bucket(to.bucket);
  const source = ctx.state.object(from.bucket, from.name);
  const sourceGeneration = target.query.get("sourceGeneration");
  if (!source || (sourceGeneration !== null && sourceGeneration !== source.generation)) {
    throw noSuchObject(from.bucket, from.name);
  }
  checkConditions(source, conditionsFrom(target.query, "ifSource"));
  const conditions = conditionsFrom(target.query);
  checkConditions(ctx.state.object(to.bucket, to.name), conditions);
  const blob = newBlobId();
  await ctx.blobs.copy(source.blob, blob);
  const { md5Hash, crc32c, size } = source;
  const record: ObjectRecord = await commitObject(
    ctx,
    {
      ...to,
      fields: destinationFields(source.fields, body),
      blob,
      size,
      checksums: { md5Hash, crc32c },
      conditions,
      storageClass: source.storageClass,
    },
    target.baseUrl,
  );
  const resource = objectResource(record, target.baseUrl);
  if (kind === "moveTo") {
    const stillThere = ctx.state.object(from.bucket, from.name);
    if (stillThere?.generation === source.generation) {
      await removeObject(ctx, stillThere, target.baseUrl);
    }
  }
  if (kind === "rewriteTo") {
    sendJson(res, 200, {
      kind: "storage#rewriteResponse",
      totalBytesRewritten: String(size),
      objectSize: String(size),
      done: true,
      resource,
    });
  } else sendJson(res, 200, resource);
}
