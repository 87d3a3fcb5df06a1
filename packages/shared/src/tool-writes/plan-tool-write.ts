import {
  type DocumentData,
  type DocumentReference,
  FieldValue,
  Timestamp,
} from "@google-cloud/firestore";
import { type AccessRules, readersOf, storedMembers } from "../access-rules.ts";
import { encodeValue } from "../firestore-codec.ts";
import { collectionNames } from "../registry/collections.ts";
import type { RealtimeUpdate } from "../topics/realtime-updates.ts";

/**
 * What a tool's write of one document comes to: `new` (the target has no document),
 * `changed`, `undeleted` (a tombstone brought back, only when asked), `unchanged` (same
 * content as the target: not written, no new version) or `kept-deleted` (the target was
 * deleted since; not written without `undelete`).
 */
export type ToolOutcome = "new" | "changed" | "undeleted" | "unchanged" | "kept-deleted";

/** The plan for one document; `fields` and `op` are set when it is written. */
export interface ToolWritePlan {
  outcome: ToolOutcome;
  /** The whole stored document to write. */
  fields?: Record<string, unknown>;
  /** The `realtime-updates` op, for a document of a collection the sync API serves. */
  op?: RealtimeUpdate["op"];
  version?: number;
}

export interface PlanOptions {
  /** Names the tool in `sync_source` and in its events: "backup-restore", "migrate". */
  source: string;
  /** Bring back documents deleted in the target since (a tombstone there, a live one wanted). */
  undelete: boolean;
  /** The app's rules, to compute `readers` from the members list; else the document's own `readers` keys. */
  rules?: AccessRules | undefined;
}

/**
 * Fields a writer stamps on every write rather than content: a document that differs from
 * the target only in them is unchanged.
 */
const stampedFields = new Set([
  "version",
  "updated_at",
  "readers",
  "sync_source",
  "created_at",
  "deleted_at",
  "expire_at",
]);

/**
 * Whether the sync API serves `ref`'s collection: a root collection that the services do not
 * own and that is not internal. Its documents get the whole contract (versions, `updated_at`,
 * `readers`, events); others only keep their `version` from going backwards.
 */
export function servedBySync(ref: DocumentReference): boolean {
  const collection = ref.parent;
  return (
    collection.parent === null &&
    !collection.id.startsWith("_") &&
    !collectionNames().has(collection.id)
  );
}

/**
 * Whether a stored document has the sync API's shape (its fields under `data`, a `version`
 * or a creator): a document of another shape in an app collection (written straight to
 * Firestore, never through the API) is copied as it is, its `version` alone kept from going back.
 */
export function isSyncDocument(fields: DocumentData): boolean {
  return "data" in fields || "version" in fields || "created_by" in fields;
}

/**
 * Decides how a tool writes `wanted` over the target's `current` document (undefined: none)
 * so that (collection, document, version) never names two contents: a written document's
 * version is one past the higher of the target's (a tombstone's too) and the wanted one's.
 */
export function planToolWrite(
  ref: DocumentReference,
  wanted: DocumentData,
  current: DocumentData | undefined,
  options: PlanOptions,
): ToolWritePlan {
  const served =
    servedBySync(ref) &&
    (isSyncDocument(wanted) || (current !== undefined && isSyncDocument(current)));
  const wantedDeleted = wanted.deleted === true;
  const currentDeleted = current?.deleted === true;
  if (current && currentDeleted && !wantedDeleted && !options.undelete) {
    return { outcome: "kept-deleted" };
  }
  if (current && sameContent(wanted, current, served)) return { outcome: "unchanged" };
  const outcome: ToolOutcome = !current
    ? "new"
    : currentDeleted && !wantedDeleted
      ? "undeleted"
      : "changed";
  const fields: Record<string, unknown> = { ...wanted };
  const hasVersion = served || wanted.version !== undefined || current?.version !== undefined;
  const version = Math.max(versionOf(current), versionOf(wanted)) + 1;
  if (hasVersion) fields.version = version;
  if (!served) return { outcome, fields, ...(hasVersion ? { version } : {}) };
  fields.updated_at = FieldValue.serverTimestamp();
  fields.sync_source = options.source;
  fields.readers = Object.fromEntries(
    readersFor(ref, wanted, current, options.rules).map((uid) => [
      uid,
      FieldValue.serverTimestamp(),
    ]),
  );
  const op: RealtimeUpdate["op"] = wantedDeleted
    ? "delete"
    : !current || currentDeleted
      ? "create"
      : "update";
  return { outcome, fields, op, version };
}

/**
 * The readers of a written document: its creator and, under the rules, the members its data
 * names. A tombstone has no data: it keeps the readers of the document it deletes (as sync's
 * delete does), so everyone who could read that document learns of its deletion.
 */
function readersFor(
  ref: DocumentReference,
  wanted: DocumentData,
  current: DocumentData | undefined,
  rules: AccessRules | undefined,
): string[] {
  const createdBy = typeof wanted.created_by === "string" ? wanted.created_by : undefined;
  const data = (wanted.data ?? (wanted.deleted === true ? current?.data : undefined)) as
    | Record<string, unknown>
    | undefined;
  if (rules && data !== undefined) {
    const members = storedMembers(rules.policyOf(ref.parent.id), data);
    return readersOf({ createdBy, members });
  }
  const stored = wanted.readers;
  const keys =
    stored && typeof stored === "object" ? Object.keys(stored as Record<string, unknown>) : [];
  return readersOf({ createdBy, members: keys });
}

/**
 * The tombstone that replaces a deleted document, as sync writes one: its data removed,
 * `deleted: true`, `deleted_at` the server's time and `expire_at` (the TTL policy's field)
 * `retentionMs` from `nowMs`; the creator and the other fields stay. A tool writes it
 * through planToolWrite, which gives it the next version, readers and a `delete` event.
 */
export function tombstoneOf(
  current: DocumentData,
  nowMs: number,
  retentionMs: number,
): Record<string, unknown> {
  const { data: _data, ...kept } = current;
  return {
    ...kept,
    deleted: true,
    deleted_at: FieldValue.serverTimestamp(),
    expire_at: Timestamp.fromMillis(nowMs + retentionMs),
  };
}

/** How long sync keeps a tombstone unless TOMBSTONE_RETENTION_DAYS says otherwise. */
export const defaultTombstoneRetentionMs = 30 * 86_400_000;

function versionOf(fields: DocumentData | undefined): number {
  const value = fields?.version;
  const version = typeof value === "bigint" ? Number(value) : value;
  return typeof version === "number" && Number.isFinite(version) && version > 0 ? version : 0;
}

/** Whether two documents hold the same content (stamped fields aside for a served one). */
export function sameContent(a: DocumentData, b: DocumentData, served: boolean): boolean {
  return contentKey(a, served) === contentKey(b, served);
}

/**
 * A canonical string of a document's content: maps with sorted keys, and integers alike
 * whether a client read them as numbers or bigints (a restore decodes bigints, a target read
 * without `useBigInt` gives numbers).
 */
export function contentKey(fields: DocumentData, served: boolean): string {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (served ? stampedFields.has(key) : key === "version") continue;
    kept[key] = value;
  }
  return JSON.stringify(sorted(encodeValue(normalized(kept))));
}

function normalized(value: unknown): unknown {
  if (typeof value === "bigint") {
    return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER
      ? Number(value)
      : value;
  }
  if (Array.isArray(value)) return value.map(normalized);
  if (
    value !== null &&
    typeof value === "object" &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, normalized(v)]),
    );
  }
  return value;
}

function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as Record<string, unknown>)
        .sort()
        .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
