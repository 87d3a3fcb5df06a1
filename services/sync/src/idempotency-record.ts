import { createHash } from "node:crypto";
import {
  type DocumentReference,
  type DocumentSnapshot,
  FieldValue,
  type Firestore,
  Timestamp,
  type WriteBatch,
} from "@google-cloud/firestore";
import { AppError, type CollectionName } from "@syncstack/shared";

/** Internal collection of answered idempotent requests. */
export const idempotencyCollection = "_idempotency" satisfies CollectionName;

/** How long a request's first answer is kept for its retries (the TTL field's offset). */
export const idempotencyRetentionMs = 86_400_000;

/** Idempotency-Key with a hash of the request it was first used for. */
export interface IdempotencyKey {
  key: string;
  requestHash: string;
}

/** A stored first answer given again for a retried idempotent request. */
export interface ReplayedResult {
  replayed: true;
  status: number;
  body: unknown;
}

/** Stable hash of a request body, to tell a retry from a different request under the same key. */
export function requestHash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

/** The record of `uid`'s request under `key` (keys are per caller). */
export function idempotencyRecordOf(db: Firestore, uid: string, key: string): DocumentReference {
  return db.collection(idempotencyCollection).doc(requestHash([uid, key]));
}

/**
 * Adds the record of a first answer to the batch that applies the request, so the two commit
 * together; its `updated_at` is left out, being the commit time (read back on replay). It
 * expires `idempotencyRetentionMs` after `now`.
 */
export function addIdempotencyRecord(
  batch: WriteBatch,
  ref: DocumentReference,
  requestHashOf: string,
  body: unknown,
  now: number,
): void {
  batch.create(ref, {
    request_hash: requestHashOf,
    status: 200,
    body,
    created_at: FieldValue.serverTimestamp(),
    expire_at: Timestamp.fromMillis(now + idempotencyRetentionMs),
  });
}

/** The first answer again, or 422 when the key was used for a different request. */
export function replay(
  snapshot: DocumentSnapshot,
  requestHashOf: string | undefined,
): ReplayedResult {
  const record = snapshot.data() ?? {};
  if (record.request_hash !== requestHashOf) {
    throw new AppError(
      "unprocessable",
      "this Idempotency-Key was already used for a different request",
    );
  }
  // The record's created_at is a server timestamp of the write's commit: the same value as
  // the document's stored updated_at, so the replay answers what the first answer did.
  const stored = record.created_at as Timestamp | undefined;
  const updatedAt = (stored ?? snapshot.createTime ?? Timestamp.now()).toDate().toISOString();
  return {
    replayed: true,
    status: Number(record.status),
    body: { ...record.body, updated_at: updatedAt },
  };
}
