import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, invalid } from "./api-error.ts";
import type { Context, Target } from "./context.ts";
import { readJson, required, sendJson } from "./http.ts";
import type { BucketRecord } from "./records.ts";
import { bucketResource } from "./resources.ts";

// Fields the emulator owns; a client's values for them are ignored.
const serverFields = new Set([
  "name",
  "id",
  "kind",
  "selfLink",
  "projectNumber",
  "timeCreated",
  "updated",
  "metageneration",
  "etag",
]);

function settingsFrom(body: unknown, base: Record<string, unknown> = {}): Record<string, unknown> {
  if (body === undefined) return { ...base };
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("Invalid bucket resource.");
  }
  const settings = { ...base };
  for (const [key, value] of Object.entries(body)) {
    if (serverFields.has(key)) continue;
    if (value === null) delete settings[key];
    else settings[key] = value;
  }
  return settings;
}

/** `buckets.insert`: bucket names are global, so a taken name is a 409. */
export async function createBucket(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  target: Target,
): Promise<void> {
  const body = await readJson(req);
  const project = required(target.query.get("project"), "project");
  const name = required((body as { name?: string } | undefined)?.name, "resource.name");
  if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name)) {
    throw invalid(`Invalid bucket name: '${name}'`);
  }
  if (ctx.state.hasBucket(name)) {
    throw new ApiError(
      409,
      "conflict",
      "Your previous request to create the named bucket succeeded and you already own it.",
    );
  }
  const now = new Date().toISOString();
  const record: BucketRecord = {
    name,
    project,
    timeCreated: now,
    updated: now,
    metageneration: 1,
    settings: settingsFrom(body),
    notifications: [],
    nextNotificationId: 1,
  };
  await ctx.state.saveBucket(record);
  sendJson(res, 200, bucketResource(record, target.baseUrl));
}

/** `buckets.list` for `project`, by name, with `prefix` and page tokens. */
export function listBuckets(ctx: Context, res: ServerResponse, target: Target): void {
  const { query } = target;
  const project = required(query.get("project"), "project");
  const prefix = query.get("prefix") ?? "";
  const max = Math.min(Number(query.get("maxResults") ?? 1000) || 1000, 1000);
  const after = Buffer.from(query.get("pageToken") ?? "", "base64url").toString("utf8");
  const matching = ctx.state
    .buckets()
    .filter((b) => b.project === project && b.name.startsWith(prefix) && b.name > after);
  const page = matching.slice(0, max);
  const last = page.at(-1);
  sendJson(res, 200, {
    kind: "storage#buckets",
    ...(page.length > 0 ? { items: page.map((b) => bucketResource(b, target.baseUrl)) } : {}),
    ...(matching.length > max && last
      ? { nextPageToken: Buffer.from(last.name).toString("base64url") }
      : {}),
  });
}

/** `buckets.get`. */
export function getBucket(ctx: Context, res: ServerResponse, name: string, target: Target): void {
  sendJson(res, 200, bucketResource(ctx.state.bucket(name), target.baseUrl));
}

/** `buckets.patch` merges settings (labels, versioning, ...); `buckets.update` replaces them. */
export async function updateBucket(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  target: Target,
): Promise<void> {
  const body = await readJson(req);
  const current = ctx.state.bucket(name);
  const record: BucketRecord = {
    ...current,
    settings: settingsFrom(body, req.method === "PUT" ? {} : current.settings),
    metageneration: current.metageneration + 1,
    updated: new Date().toISOString(),
  };
  await ctx.state.saveBucket(record);
  sendJson(res, 200, bucketResource(record, target.baseUrl));
}

/** `buckets.delete`: 204; a bucket that still holds objects is a 409. */
export async function deleteBucket(ctx: Context, res: ServerResponse, name: string) {
  await ctx.state.deleteBucket(name);
  res.writeHead(204).end();
}
