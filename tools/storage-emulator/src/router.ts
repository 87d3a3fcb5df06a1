import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./api-error.ts";
import { createBucket, deleteBucket, getBucket, listBuckets, updateBucket } from "./buckets.ts";
import type { Context, Target } from "./context.ts";
import { type CopyKind, copyObject } from "./copy-object.ts";
import { sendMedia } from "./download.ts";
import { requestBase } from "./http.ts";
import {
  createNotification,
  deleteNotification,
  getNotification,
  listNotifications,
} from "./notification-configs.ts";
import { deleteObject, findObject, getObject, listObjects, updateObject } from "./objects.ts";
import type { ResumableUploads } from "./resumable-upload.ts";
import { simpleUpload } from "./simple-upload.ts";

type Handler = () => Promise<void> | void;

function notFound(): ApiError {
  return new ApiError(404, "notFound", "Not Found");
}

function methodNotAllowed(method: string): ApiError {
  return new ApiError(405, "methodNotAllowed", `Method ${method} is not supported here.`);
}

/** Picks the handler for one request by method and path (segments still percent-encoded). */
export function route(
  ctx: Context,
  uploads: ResumableUploads,
  req: IncomingMessage,
  res: ServerResponse,
  fallbackBase: string,
): Handler {
  const url = new URL(req.url ?? "/", "http://emulator");
  const target: Target = { query: url.searchParams, baseUrl: requestBase(req, fallbackBase) };
  const method = req.method ?? "GET";
  let path = url.pathname.split("/").slice(1);
  // With STORAGE_EMULATOR_HOST set the client sends JSON API calls without `/storage/v1`.
  if (path[0] === "storage" && path[1] === "v1") path = path.slice(2);
  const [first, ...rest] = path;
  const name = (segment: string | undefined) => decodeURIComponent(segment ?? "");
  const on = (handlers: Partial<Record<string, Handler>>): Handler => {
    const handler = handlers[method === "HEAD" ? "GET" : method];
    if (!handler) throw methodNotAllowed(method);
    return handler;
  };

  if (path.length === 1 && first === "") {
    return on({ GET: () => void res.writeHead(200, { "Content-Type": "text/plain" }).end("Ok") });
  }
  if (first === "upload" && rest[0] === "storage" && rest[1] === "v1" && rest[2] === "b") {
    const bucket = name(rest[3]);
    if (rest[4] !== "o" || rest.length !== 5) throw notFound();
    const id = target.query.get("upload_id");
    if (id) {
      return on({
        PUT: () => uploads.put(req, res, id, target),
        POST: () => uploads.put(req, res, id, target),
        DELETE: () => uploads.cancel(req, res, id),
      });
    }
    const resumable = target.query.get("uploadType") === "resumable";
    return on({
      POST: () =>
        resumable
          ? uploads.start(req, res, bucket, target)
          : simpleUpload(ctx, req, res, bucket, target),
    });
  }
  if (first === "download" && rest[0] === "storage" && rest[1] === "v1" && rest[2] === "b") {
    if (rest[4] !== "o" || rest.length !== 6) throw notFound();
    const [bucket, object] = [name(rest[3]), name(rest[5])];
    return on({
      GET: () => sendMedia(ctx, req, res, findObject(ctx, bucket, object, target.query, true)),
    });
  }
  if (first === "b") return bucketRoutes(ctx, req, res, rest.map(name), target, on);
  // A public URL, `/<bucket>/<object name>`, as `file.publicUrl()` builds it.
  if (first && rest.length > 0 && ctx.state.hasBucket(name(first))) {
    const object = rest.map(name).join("/");
    return on({
      GET: () => sendMedia(ctx, req, res, findObject(ctx, name(first), object, target.query, true)),
    });
  }
  throw notFound();
}

function bucketRoutes(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  path: string[],
  target: Target,
  on: (handlers: Partial<Record<string, Handler>>) => Handler,
): Handler {
  const [bucket, kind, object, ...tail] = path;
  if (bucket === undefined) {
    return on({
      GET: () => listBuckets(ctx, res, target),
      POST: () => createBucket(ctx, req, res, target),
    });
  }
  if (kind === undefined) {
    return on({
      GET: () => getBucket(ctx, res, bucket, target),
      PATCH: () => updateBucket(ctx, req, res, bucket, target),
      PUT: () => updateBucket(ctx, req, res, bucket, target),
      DELETE: () => deleteBucket(ctx, res, bucket),
    });
  }
  if (kind === "notificationConfigs") {
    if (object === undefined) {
      return on({
        GET: () => listNotifications(ctx, res, bucket, target),
        POST: () => createNotification(ctx, req, res, bucket, target),
      });
    }
    return on({
      GET: () => getNotification(ctx, res, bucket, object, target),
      DELETE: () => deleteNotification(ctx, res, bucket, object),
    });
  }
  if (kind !== "o")
    throw new ApiError(501, "notImplemented", `The emulator does not support ${kind}.`);
  if (object === undefined) return on({ GET: () => listObjects(ctx, res, bucket, target) });
  if (tail.length === 0) {
    return on({
      GET: () => getObject(ctx, req, res, bucket, object, target),
      PATCH: () => updateObject(ctx, req, res, bucket, object, target),
      PUT: () => updateObject(ctx, req, res, bucket, object, target),
      DELETE: () => deleteObject(ctx, res, bucket, object, target),
    });
  }
  const [verb, ...destination] = tail;
  const from = { bucket, name: object };
  if ((verb === "rewriteTo" || verb === "copyTo") && destination.length === 4) {
    const [b, toBucket, o, toName] = destination;
    if (b === "b" && o === "o" && toBucket !== undefined && toName !== undefined) {
      const to = { bucket: toBucket, name: toName };
      return on({ POST: () => copyObject(ctx, req, res, verb as CopyKind, from, to, target) });
    }
  }
  if (verb === "moveTo" && destination.length === 2 && destination[0] === "o") {
    const to = { bucket, name: destination[1] as string };
    return on({ POST: () => copyObject(ctx, req, res, "moveTo", from, to, target) });
  }
  throw new ApiError(501, "notImplemented", `The emulator does not support ${verb}.`);
}
