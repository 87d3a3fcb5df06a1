import {
  DocumentReference,
  FieldValue,
  type Firestore,
  GeoPoint,
  Timestamp,
  VectorValue,
} from "@google-cloud/firestore";
import {
  backupRequested,
  createServiceContext,
  defaultBucketNames,
  loadConfig,
  realtimeUpdates,
  type ServiceContext,
} from "@syncstack/shared";
import { provisionBuckets, provisionTopology } from "@syncstack/shared/provision";
import { memoryLogger, testEnv } from "@syncstack/shared/testing";
import { type BackupConfig, backupEnvSchema } from "../config.ts";
import { firestoreFor } from "../firestore-client.ts";
import type { BackupDeps } from "../run-backup.ts";

/** A backup service context against the test runner's three emulators. */
export function backupTestContext(
  projectId: string,
  extra: Record<string, string> = {},
): ServiceContext<BackupConfig> {
  const config = loadConfig(
    backupEnvSchema,
    testEnv(projectId, {
      STORAGE_EMULATOR_HOST: process.env.STORAGE_EMULATOR_HOST ?? "",
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
      BACKUP_PAGE_SIZE: "7",
      ...extra,
    }),
  );
  return createServiceContext("backup", config, { logger: memoryLogger(projectId).logger });
}

/** Backup dependencies from a context, with their own BigInt-reading export client. */
export function depsOf(context: ServiceContext<BackupConfig>): BackupDeps {
  return {
    db: context.firestore,
    exportDb: firestoreFor(context.config, context.config.GOOGLE_CLOUD_PROJECT, true),
    storage: context.storage,
    publisher: context.publisher,
    logger: context.logger,
    config: context.config,
  };
}

/** Provisions the topics (push to `serviceUrl` when given) and the project's buckets. */
export async function provision(context: ServiceContext, serviceUrl?: string): Promise<void> {
  const projectId = context.config.GOOGLE_CLOUD_PROJECT;
  await provisionTopology(context.pubsub, [backupRequested, realtimeUpdates], {
    serviceUrls: serviceUrl ? { backup: serviceUrl } : {},
    nativePolicies: false,
  });
  await provisionBuckets(context.storage, projectId, defaultBucketNames(projectId));
}

/** Writes `config/backup`. */
export async function configureBackup(
  db: Firestore,
  fields: Record<string, unknown>,
): Promise<void> {
  await db.doc("config/backup").set(fields);
}

/** Every Firestore type, at the top level and nested in maps and arrays. */
export function everyType(db: Firestore, n: number): Record<string, unknown> {
  const scalars = {
    string: `text ✓ ${n}`,
    empty_string: "",
    integer: 42,
    big_integer: 2n ** 62n + BigInt(n),
    negative: -7,
    double: 1.25 + n / 7,
    nan: Number.NaN,
    infinity: Number.POSITIVE_INFINITY,
    negative_infinity: Number.NEGATIVE_INFINITY,
    negative_zero: -0,
    boolean: n % 2 === 0,
    null: null,
    timestamp: new Timestamp(1_700_000_000 + n, 123_456_789),
    old_timestamp: new Timestamp(-86_400, 999_999_999),
    geo: new GeoPoint(-33.8688, 151.2093),
    reference: db.doc(`users/u${n}`),
    bytes: Buffer.from([0, 1, 2, 255, n % 256]),
    vector: FieldValue.vector([0.25, -1.5, n]),
  };
  return {
    ...scalars,
    map: {
      ...scalars,
      __t: "looks like a tag",
      deeper: { list: [scalars.timestamp, scalars.geo] },
    },
    array: [
      scalars.timestamp,
      scalars.bytes,
      scalars.reference,
      scalars.nan,
      null,
      { inner: scalars.geo },
    ],
    empty_map: {},
    empty_array: [],
  };
}

/** A value as a tree of type names and exact contents, to compare type by type. */
export function typed(value: unknown): unknown {
  if (value === null) return ["null"];
  if (typeof value === "number") return ["double", Object.is(value, -0) ? "-0" : String(value)];
  if (typeof value === "bigint") return ["integer", value.toString()];
  if (typeof value === "string" || typeof value === "boolean") return [typeof value, value];
  if (Array.isArray(value)) return ["array", value.map(typed)];
  if (value instanceof Timestamp) return ["timestamp", value.seconds, value.nanoseconds];
  if (value instanceof GeoPoint) return ["geo", value.latitude, value.longitude];
  if (value instanceof DocumentReference) return ["reference", value.path];
  if (value instanceof Uint8Array) return ["bytes", Buffer.from(value).toString("hex")];
  if (value instanceof VectorValue) return ["vector", value.toArray()];
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : 1,
    );
    return ["map", entries.map(([k, v]) => [k, typed(v)])];
  }
  throw new Error(`unexpected value ${String(value)}`);
}

/** Every document under the given root collections, as `path -> typed fields`. */
export async function dump(
  db: Firestore,
  collections: readonly string[],
): Promise<Map<string, unknown>> {
  const found = new Map<string, unknown>();
  const visit = async (ref: FirebaseFirestore.CollectionReference): Promise<void> => {
    for (const doc of (await ref.get()).docs) found.set(doc.ref.path, typed(doc.data()));
    for (const docRef of await ref.listDocuments()) {
      for (const sub of await docRef.listCollections()) await visit(sub);
    }
  };
  for (const name of collections) await visit(db.collection(name));
  return found;
}
