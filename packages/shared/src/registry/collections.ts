import type { ServiceName } from "./services.ts";

/** A Firestore collection as data: who writes it and what deployment must set up for it. */
export interface CollectionSpec {
  name: string;
  /** The services that write it (the readiness probe's collection is only read, by all). */
  owners: readonly ServiceName[];
  /** Internal bookkeeping, not part of the contract (the name starts with `_`). */
  internal: boolean;
  description: string;
  /** A timestamp field after which a Firestore TTL policy deletes the document. */
  ttlField?: string;
  /** Fields nothing queries, kept out of Firestore's single-field indexes (each costs writes). */
  unindexedFields?: readonly string[];
  /** A queue: it empties once the system is idle (its entries are handed on, then deleted). */
  drains?: boolean;
  /** Composite indexes the services' queries need (deployment creates them). */
  indexes?: readonly CompositeIndexSpec[];
}

/** The order of a field in a composite index. */
export type IndexOrder = "ASCENDING" | "DESCENDING";

/**
 * A composite index as its fields in order, e.g. `[["owner", "ASCENDING"], ["created",
 * "DESCENDING"]]`; documents with equal fields follow in id order, the last field's direction.
 */
export interface CompositeIndexSpec {
  fields: readonly (readonly [field: string, order: IndexOrder])[];
}

/**
 * Every collection the services own. The sync ingress refuses writes to them, deployment
 * renders their TTL and index policies, and the chaos invariants know them from here.
 */
export const collections = [
  { name: "users", owners: ["sync"], internal: false, description: "Profiles of new users" },
  {
    name: "user_stats",
    owners: ["analytics"],
    internal: false,
    description: "One user's counters",
  },
  {
    name: "files",
    owners: ["files"],
    internal: false,
    description: "Uploaded files' records",
    // A user's own files, newest first (GET /v1/files).
    indexes: [
      {
        fields: [
          ["owner", "ASCENDING"],
          ["deleted", "ASCENDING"],
          ["created", "DESCENDING"],
        ],
      },
    ],
  },
  { name: "backups", owners: ["backup"], internal: false, description: "Backup runs' records" },
  {
    name: "config",
    owners: ["backup"],
    internal: false,
    description: "Operators' settings (config/backup)",
  },
  {
    name: "analytics",
    owners: ["analytics"],
    internal: false,
    description: "The latest stats tick's figures (analytics/daily_stats)",
  },
  {
    name: "analytics_history",
    owners: ["analytics"],
    internal: false,
    description: "One document per stats tick",
  },
  {
    name: "_idempotency",
    owners: ["sync"],
    internal: true,
    description: "Answers to idempotency keys, for a retried request",
    ttlField: "expire_at",
  },
  {
    name: "_processed_messages",
    owners: ["sync", "analytics"],
    internal: true,
    description: "Messages whose effect has been applied",
    ttlField: "expire_at",
  },
  {
    name: "_outbox",
    owners: ["sync"],
    internal: true,
    description: "Committed events waiting to be published",
    unindexedFields: ["events", "traces"],
    drains: true,
  },
  {
    name: "_activity_deltas",
    owners: ["analytics"],
    internal: true,
    description: "Applied activity events waiting to be folded into user_stats",
    drains: true,
  },
  {
    name: "_collaborations",
    owners: ["analytics"],
    internal: true,
    description: "One marker per (user, document) a user collaborated on, so that each counts once",
  },
  {
    name: "_locks",
    owners: ["backup"],
    internal: true,
    description: "Leases (_locks/backup: one backup at a time)",
  },
  {
    name: "_readyz",
    owners: [],
    internal: true,
    description: "Read (never written) by every service's readiness check",
  },
] as const satisfies readonly CollectionSpec[];

/** A collection's name as the registry spells it. */
export type CollectionName = (typeof collections)[number]["name"];

/** The names of a registry's collections: what the ingress may not write. */
export function collectionNames(
  registry: readonly CollectionSpec[] = collections,
): ReadonlySet<string> {
  return new Set(registry.map((collection) => collection.name));
}

/** Finds a collection by name; unknown names are an error that lists the known ones. */
export function collectionNamed(
  name: string,
  registry: readonly CollectionSpec[] = collections,
): CollectionSpec {
  const found = registry.find((collection) => collection.name === name);
  if (!found) {
    throw new Error(
      `unknown collection "${name}"; known collections: ${registry.map((c) => c.name).join(", ")}`,
    );
  }
  return found;
}

/** One Firestore field policy: a TTL on a timestamp field, or a field left unindexed. */
export interface FieldPolicy {
  /** A stable id, e.g. `idempotency_ttl`, `outbox_events`. */
  id: string;
  collection: string;
  field: string;
  ttl: boolean;
}

/**
 * The Firestore field policies a registry needs: a TTL (with no index) on each TTL field,
 * no index on each unindexed field.
 */
export function fieldPolicies(registry: readonly CollectionSpec[] = collections): FieldPolicy[] {
  return registry.flatMap((collection) => {
    const stem = collection.name.replace(/^_+/, "");
    return [
      ...(collection.ttlField === undefined
        ? []
        : [
            {
              id: `${stem}_ttl`,
              collection: collection.name,
              field: collection.ttlField,
              ttl: true,
            },
          ]),
      ...(collection.unindexedFields ?? []).map((field) => ({
        id: `${stem}_${field}`,
        collection: collection.name,
        field,
        ttl: false,
      })),
    ];
  });
}

/** One composite index of a registry's collection, with the document id as its last field. */
export interface CompositeIndex {
  /** A stable id, e.g. `files_owner_deleted_created`. */
  id: string;
  collection: string;
  fields: { field: string; order: IndexOrder }[];
}

/**
 * The composite indexes a registry declares. Each ends with the document id (`__name__`) in
 * the last field's direction, as Firestore adds it, so queries that break ties by id use it.
 */
export function compositeIndexes(
  registry: readonly CollectionSpec[] = collections,
): CompositeIndex[] {
  return registry.flatMap((collection) =>
    (collection.indexes ?? []).map((index) => {
      const fields = index.fields.map(([field, order]) => ({ field, order }));
      const last = fields.at(-1);
      if (fields.length < 2 || !last) {
        throw new Error(`a composite index of ${collection.name} needs at least two fields`);
      }
      const stem = collection.name.replace(/^_+/, "");
      return {
        id: [stem, ...fields.map((f) => f.field.replace(/[^A-Za-z0-9_]/g, "_"))].join("_"),
        collection: collection.name,
        fields:
          last.field === "__name__"
            ? fields
            : [...fields, { field: "__name__", order: last.order }],
      };
    }),
  );
}
