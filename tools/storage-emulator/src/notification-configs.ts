import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError, invalid } from "./api-error.ts";
import type { Context, Target } from "./context.ts";
import { readJson, required, sendJson } from "./http.ts";
import { eventTypes, parseTopic } from "./notifier.ts";
import type { NotificationConfig } from "./records.ts";
import { notificationResource } from "./resources.ts";

// The API takes either spelling; the client sends snake_case.
function field(body: Record<string, unknown>, snake: string, camel: string): unknown {
  return body[snake] ?? body[camel];
}

function configFrom(id: string, input: unknown): NotificationConfig {
  if (typeof input !== "object" || input === null) throw invalid("Invalid notification resource.");
  const body = input as Record<string, unknown>;
  const topic = required(body.topic as string | undefined, "resource.topic");
  const target = typeof topic === "string" ? parseTopic(topic) : undefined;
  if (!target) throw invalid(`Invalid Pub/Sub topic name: ${String(topic)}`);
  const format = field(body, "payload_format", "payloadFormat") ?? "JSON_API_V1";
  if (format !== "JSON_API_V1" && format !== "NONE") {
    throw invalid(`Invalid payload format: ${String(format)}`);
  }
  const config: NotificationConfig = {
    id,
    topic: `//pubsub.googleapis.com/projects/${target.project}/topics/${target.topic}`,
    payload_format: format,
  };
  const types = field(body, "event_types", "eventTypes");
  if (types !== undefined) {
    const valid = new Set<unknown>(eventTypes);
    if (!Array.isArray(types) || !types.every((type) => valid.has(type))) {
      throw invalid(`Invalid event types: ${JSON.stringify(types)}`);
    }
    config.event_types = types as string[];
  }
  const attributes = field(body, "custom_attributes", "customAttributes");
  if (attributes !== undefined) {
    config.custom_attributes = Object.fromEntries(
      Object.entries(attributes as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    );
  }
  const prefix = field(body, "object_name_prefix", "objectNamePrefix");
  if (typeof prefix === "string" && prefix !== "") config.object_name_prefix = prefix;
  return config;
}

/** `notifications.insert`: from now on the bucket's object events go to the config's topic. */
export async function createNotification(
  ctx: Context,
  req: IncomingMessage,
  res: ServerResponse,
  bucket: string,
  target: Target,
): Promise<void> {
  const body = await readJson(req);
  const current = ctx.state.bucket(bucket);
  const config = configFrom(String(current.nextNotificationId), body);
  await ctx.state.saveBucket({
    ...current,
    notifications: [...current.notifications, config],
    nextNotificationId: current.nextNotificationId + 1,
  });
  sendJson(res, 200, notificationResource(bucket, config, target.baseUrl));
}

/** `notifications.list`. */
export function listNotifications(ctx: Context, res: ServerResponse, bucket: string, t: Target) {
  const configs = ctx.state.bucket(bucket).notifications;
  sendJson(res, 200, {
    kind: "storage#notifications",
    ...(configs.length > 0
      ? { items: configs.map((config) => notificationResource(bucket, config, t.baseUrl)) }
      : {}),
  });
}

function findConfig(ctx: Context, bucket: string, id: string): NotificationConfig {
  const config = ctx.state.bucket(bucket).notifications.find((c) => c.id === id);
  if (!config) throw new ApiError(404, "notFound", "Not Found");
  return config;
}

/** `notifications.get`. */
export function getNotification(
  ctx: Context,
  res: ServerResponse,
  bucket: string,
  id: string,
  t: Target,
) {
  sendJson(res, 200, notificationResource(bucket, findConfig(ctx, bucket, id), t.baseUrl));
}

/** `notifications.delete`: 204. */
export async function deleteNotification(
  ctx: Context,
  res: ServerResponse,
  bucket: string,
  id: string,
): Promise<void> {
  findConfig(ctx, bucket, id);
  const current = ctx.state.bucket(bucket);
  const notifications = current.notifications.filter((config) => config.id !== id);
  await ctx.state.saveBucket({ ...current, notifications });
  res.writeHead(204).end();
}
