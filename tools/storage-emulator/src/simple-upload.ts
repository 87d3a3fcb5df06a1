import type { IncomingMessage, ServerResponse } from "node:http";
import { invalid } from "./api-error.ts";
import { newBlobId } from "./blob-store.ts";
import { commitObject } from "./commit-object.ts";
import { ContentHasher, declaredChecksums, verifyChecksums } from "./content-hasher.ts";
import type { Context, Target } from "./context.ts";
import { required, sendJson } from "./http.ts";
import { boundaryOf, parseMultipartRelated } from "./multipart-related.ts";
import { conditionsFrom } from "./preconditions.ts";
import { isAbort, receiveInto } from "./receive-body.ts";
import { applyFields, nameIn, type ObjectFields } from "./records.ts";
import { objectResource } from "./resources.ts";

/**
 * `uploadType=media` (the body is the object) and `uploadType=multipart` (a JSON resource, then
 * the bytes): both stream into a fresh blob that becomes the object once it arrived whole.
 */
export async function simpleUpload(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  target: Target,
): Promise<void> {
  ctx.state.bucket(bucket);
  const conditions = conditionsFrom(target.query);
  const multipart = target.query.get("uploadType") === "multipart";
  const blob = newBlobId();
  const sink = await ctx.blobs.append(blob);
  const hasher = new ContentHasher();
  let resource: unknown;
  let mediaType: string | undefined;
  let complete = true;
  try {
    if (multipart) {
      let metadata = "";
      const parts = await parseMultipartRelated(req, boundaryOf(req.headers["content-type"]), {
        start: (index, headers) => {
          if (index === 1) mediaType = headers["content-type"];
          if (index > 1) throw invalid("A multipart upload has exactly two parts.");
        },
        data: async (index, chunk) => {
          if (index === 0) metadata += chunk.toString("utf8");
          else {
            hasher.update(chunk);
            await sink.write(chunk);
          }
        },
      });
      if (parts !== 2) throw invalid("A multipart upload has exactly two parts.");
      resource = metadata.trim() === "" ? undefined : JSON.parse(metadata);
    } else {
      mediaType = req.headers["content-type"];
      complete = (await receiveInto(req, sink, hasher)).complete;
    }
  } catch (error) {
    await sink.close();
    await ctx.blobs.remove(blob);
    if (isAbort(error)) return;
    throw error instanceof SyntaxError ? invalid("The object resource is not JSON.") : error;
  }
  await sink.close();
  if (!complete) {
    await ctx.blobs.remove(blob);
    return;
  }
  let name: string;
  let fields: ObjectFields;
  const checksums = hasher.digest();
  try {
    name = required(nameIn(resource) ?? target.query.get("name"), "name");
    fields = applyFields({}, resource);
    if (!fields.contentType && mediaType) fields.contentType = mediaType;
    verifyChecksums(checksums, declaredChecksums(resource));
  } catch (error) {
    await ctx.blobs.remove(blob);
    throw error;
  }
  const object = { bucket, name, fields, blob, size: hasher.size, checksums, conditions };
  const record = await commitObject(ctx, object, target.baseUrl);
  sendJson(res, 200, objectResource(record, target.baseUrl));
}
