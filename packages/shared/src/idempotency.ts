import {
  type DocumentReference,
  FieldValue,
  type Firestore,
  Timestamp,
  type Transaction,
} from "@google-cloud/firestore";
import { withDeadline } from "./deadline.ts";
import type { CollectionName } from "./registry/collections.ts";

/** Internal collection recording which messages have had their effect. */
export const processedMessagesCollection = "_processed_messages" satisfies CollectionName;

/** How long a processed-message record is kept unless said otherwise. */
export const defaultRetentionDays = 7;

/** A `_processed_messages` record as it is written: the key, when, and when it may go. */
export interface ProcessedMessageRecord {
  key: string;
  applied_at: FieldValue;
  /** A Firestore TTL policy on this field deletes the record. */
  expire_at: Timestamp;
}

/**
 * The record that the effect of `key` (e.g. consumer and message id) was applied: its
 * document (the key, URI-encoded, so any key is a valid id) and its fields. Whoever applies
 * an effect once creates it in the same commit as the effect.
 */
export function processedMessageRecord(
  db: Firestore,
  key: string,
  options: { nowMs?: number; retentionDays?: number } = {},
): { ref: DocumentReference; data: ProcessedMessageRecord } {
  const retentionMs = (options.retentionDays ?? defaultRetentionDays) * 24 * 3600 * 1_000;
  return {
    ref: db.collection(processedMessagesCollection).doc(encodeURIComponent(key)),
    data: {
      key,
      applied_at: FieldValue.serverTimestamp(),
      expire_at: Timestamp.fromMillis((options.nowMs ?? Date.now()) + retentionMs),
    },
  };
}

export interface ApplyOnceOptions {
  deadlineMs: number;
  /** How long a record is kept (a Firestore TTL policy on `expire_at` deletes it). */
  retentionDays?: number;
  /** The clock the record's expiry is counted from. */
  now?: () => number;
}

/** Whether the effect ran now, and its result if so. */
export type ApplyOnceResult<T> = { applied: true; result: T } | { applied: false };

/**
 * Applies `effect` at most once per key (e.g. consumer and message id): the record of the
 * key and the effect's writes commit in one Firestore transaction, so a redelivered
 * message changes nothing. The effect must do its reads before its writes, as in any
 * Firestore transaction, and may be run more than once if the transaction retries.
 */
export async function applyOnce<T>(
  db: Firestore,
  key: string,
  effect: (transaction: Transaction) => Promise<T>,
  options: ApplyOnceOptions,
): Promise<ApplyOnceResult<T>> {
  return withDeadline(`firestore.applyOnce ${key}`, options.deadlineMs, () =>
    db.runTransaction(async (transaction): Promise<ApplyOnceResult<T>> => {
      const record = processedMessageRecord(db, key, {
        nowMs: (options.now ?? Date.now)(),
        retentionDays: options.retentionDays,
      });
      const seen = await transaction.get(record.ref);
      if (seen.exists) return { applied: false };
      const result = await effect(transaction);
      transaction.create(record.ref, record.data);
      return { applied: true, result };
    }),
  );
}
