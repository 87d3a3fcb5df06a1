import { z } from "zod";
import { defineTopic } from "./topic.ts";

/** One committed change to a synced document. */
export const realtimeUpdateSchema = z.object({
  collection: z.string().min(1),
  document: z.string().min(1),
  timestamp: z.iso.datetime({ offset: true }),
  op: z.enum(["create", "update", "delete"]),
  version: z.number().int().min(1),
  source: z.string().min(1),
  uid: z.string().min(1).optional(),
  /** The document's creator (docs/access-rules.md): who owns it, unchanged by later writes. */
  created_by: z.string().min(1).max(128).optional(),
});
export type RealtimeUpdate = z.output<typeof realtimeUpdateSchema>;

/**
 * The `source` of events that tools publish for the documents they write: they name no `uid`
 * (no user wrote them), and analytics counts nothing for them.
 */
export const toolSources = { restore: "backup-restore", migrate: "migrate" } as const;

/** Whether an event was published by a tool rather than written by a user. */
export function isToolEvent(event: Pick<RealtimeUpdate, "source">): boolean {
  return (Object.values(toolSources) as string[]).includes(event.source);
}

/** The ordering key of a document's events, `<collection>/<document>`: one document's changes in order. */
export function realtimeUpdateOrderingKey(
  event: Pick<RealtimeUpdate, "collection" | "document">,
): string {
  return `${event.collection}/${event.document}`;
}

/** `realtime-updates`: every change to a synced document, in order per document. */
export const realtimeUpdates = defineTopic({
  name: "realtime-updates",
  description: "Every committed document change, ordered per document",
  schema: realtimeUpdateSchema,
  schemaVersion: 1,
  orderingKey: realtimeUpdateOrderingKey,
  retry: { minBackoffSeconds: 1, maxBackoffSeconds: 60, maxDeliveryAttempts: 10 },
  publishers: ["sync", "files", "backup"],
  // Analytics' effects (increments, the latest activity time) commute, so it takes events unordered.
  subscriptions: [
    { service: "analytics", delivery: "push", ackDeadlineSeconds: 30, ordered: false },
  ],
});
