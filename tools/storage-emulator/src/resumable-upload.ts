import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, invalid } from "./api-error.ts";
import { newBlobId } from "./blob-store.ts";
import { commitObject } from "./commit-object.ts";
import {
  type ContentHasher,
  declaredChecksums,
  hashBlob,
  parseHashHeader,
  verifyChecksums,
} from "./content-hasher.ts";
import { parseUploadRange } from "./content-range.ts";
import type { Context, Target } from "./context.ts";
import { readJson, required, sendJson } from "./http.ts";
import { checkConditions, conditionsFrom } from "./preconditions.ts";
import { receiveInto } from "./receive-body.ts";
import { applyFields, nameIn, type ObjectRecord, type UploadSession } from "./records.ts";
import { objectResource } from "./resources.ts";

/** What a session has received so far; rebuilt from its blob after a restart. */
interface Progress {
  size: number;
  hasher: ContentHasher;
}

/**
 * Resumable uploads: a POST opens a session and answers its URI in `Location`; PUTs to it
 * append chunks (`Content-Range: bytes a-b/total`, 308 with `Range` until the last one, which
 * answers 200 with the object); `bytes *` + `/*` asks how far it got. Bytes already held are
 * skipped when a client resends them, and bytes of an interrupted request are kept.
 */
export class ResumableUploads {
  readonly #ctx: Context;
  readonly #progress = new Map<string, Progress>();
  readonly #queues = new Map<string, Promise<void>>();
  readonly #active = new Map<string, IncomingMessage>();
  // Finished sessions answer a retried last request with the object, as Cloud Storage does.
  readonly #finished = new Map<string, ObjectRecord>();

  constructor(ctx: Context) {
    this.#ctx = ctx;
  }

  /** Opens a session for `bucket` from the object resource in the body (or `name`). */
  async start(req: IncomingMessage, res: ServerResponse, bucket: string, target: Target) {
    const { state, blobs } = this.#ctx;
    state.bucket(bucket);
    const body = await readJson(req);
    const name = required(nameIn(body) ?? target.query.get("name"), "name");
    const fields = applyFields({}, body);
    const type = req.headers["x-upload-content-type"];
    if (!fields.contentType && typeof type === "string") fields.contentType = type;
    const conditions = conditionsFrom(target.query);
    checkConditions(state.object(bucket, name), conditions);
    const id = randomBytes(24).toString("base64url");
    const session: UploadSession = {
      id,
      bucket,
      name,
      fields,
      conditions,
      declared: declaredChecksums(body),
      blob: newBlobId(),
      created: new Date().toISOString(),
    };
    await (await blobs.append(session.blob)).close();
    await state.saveSession(session);
    const query = `uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`;
    res.writeHead(200, {
      Location: `${target.baseUrl}/upload/storage/v1/b/${bucket}/o?${query}`,
      "X-GUploader-UploadID": id,
      "Content-Length": 0,
    });
    res.end();
  }

  /** Takes one request of session `id`: a chunk, the last chunk, or a status query. */
  async put(req: IncomingMessage, res: ServerResponse, id: string, target: Target) {
    const range = parseUploadRange(req.headers["content-range"]);
    await this.#exclusive(id, req, async () => {
      const finished = this.#finished.get(id);
      if (finished) {
        req.resume();
        sendJson(res, 200, objectResource(finished, target.baseUrl));
        return;
      }
      const session = this.#ctx.state.session(id);
      if (!session) throw new ApiError(404, "notFound", "No such upload session.");
      const progress = await this.#progressOf(session);
      if (range.query) {
        if (range.total === progress.size) return this.#finish(req, res, session, target);
        return incomplete(res, progress.size);
      }
      if (range.start > progress.size) {
        throw invalid(
          `Invalid request. According to the Content-Range header, the upload offset is ` +
            `${range.start} byte(s), which exceeds already uploaded size of ${progress.size} byte(s).`,
        );
      }
      const sink = await this.#ctx.blobs.append(session.blob);
      try {
        const received = await receiveInto(req, sink, progress.hasher, progress.size - range.start);
        progress.size += received.written;
        if (!received.complete) return;
      } catch (error) {
        this.#progress.delete(id);
        throw error;
      } finally {
        await sink.close();
      }
      if (range.total !== undefined && progress.size > range.total) {
        throw invalid(
          `The upload has ${progress.size} bytes, more than the ${range.total} declared.`,
        );
      }
      const last =
        range.total === undefined ? range.end === undefined : progress.size === range.total;
      if (last) return this.#finish(req, res, session, target);
      return incomplete(res, progress.size);
    });
  }

  /** Cancels session `id` (DELETE on its URI), answering 499 as Cloud Storage does. */
  async cancel(req: IncomingMessage, res: ServerResponse, id: string) {
    await this.#exclusive(id, req, async () => {
      const session = this.#ctx.state.session(id);
      if (!session) throw new ApiError(404, "notFound", "No such upload session.");
      await this.#drop(session);
      res.writeHead(499, { "Content-Length": 0 }).end();
    });
  }

  async #finish(req: IncomingMessage, res: ServerResponse, session: UploadSession, target: Target) {
    const progress = await this.#progressOf(session);
    const checksums = progress.hasher.digest();
    const { bucket, name, fields, blob, conditions } = session;
    try {
      const header = parseHashHeader(req.headers["x-goog-hash"] as string | undefined);
      verifyChecksums(checksums, session.declared ?? {}, header);
      const object = { bucket, name, fields, blob, size: progress.size, checksums, conditions };
      const record = await commitObject(this.#ctx, object, target.baseUrl);
      this.#finished.set(session.id, record);
      if (this.#finished.size > 1000)
        this.#finished.delete(this.#finished.keys().next().value ?? "");
      sendJson(res, 200, objectResource(record, target.baseUrl));
    } catch (error) {
      await this.#ctx.blobs.remove(blob);
      throw error;
    } finally {
      await this.#drop(session, false);
    }
  }

  async #drop(session: UploadSession, removeBlob = true) {
    this.#progress.delete(session.id);
    await this.#ctx.state.deleteSession(session.id);
    if (removeBlob) await this.#ctx.blobs.remove(session.blob);
  }

  async #progressOf(session: UploadSession): Promise<Progress> {
    let progress = this.#progress.get(session.id);
    if (!progress) {
      const hasher = await hashBlob(this.#ctx.blobs, session.blob);
      progress = { size: hasher.size, hasher };
      this.#progress.set(session.id, progress);
    }
    return progress;
  }

  /**
   * Runs one request of a session at a time, so chunks never interleave. A client sends a new
   * request only once it gave up on the previous one, which may still be open (the client does
   * not always abort it): that one is cut off, keeping what it delivered, instead of waited for.
   */
  async #exclusive(id: string, req: IncomingMessage, work: () => Promise<void>): Promise<void> {
    this.#active.get(id)?.destroy();
    this.#active.set(id, req);
    const run = (this.#queues.get(id) ?? Promise.resolve()).then(work);
    const settled = run.catch(() => {});
    this.#queues.set(id, settled);
    try {
      await run;
    } finally {
      if (this.#queues.get(id) === settled) this.#queues.delete(id);
      if (this.#active.get(id) === req) this.#active.delete(id);
    }
  }
}

/** 308: the session continues; `Range` says which bytes the emulator holds. */
function incomplete(res: ServerResponse, size: number): void {
  const headers: Record<string, string | number> = { "Content-Length": 0 };
  if (size > 0) headers.Range = `bytes=0-${size - 1}`;
  res.writeHead(308, headers).end();
}
