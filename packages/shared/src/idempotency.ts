import { FieldValue, type Firestore, Timestamp, type Transaction } from "@google-cloud/firestore";
import { withDeadline } from "./deadline.ts";

/** Internal collection recording which messages have had their effect. */
export const processedMessagesCollection = "_processed_messages";

export interface ApplyOnceOptions {
  deadlineMs: number;
  /** How long a record is kept (a Firestore TTL policy on `expire_at` deletes it). */
  retentionDays?: number;
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
  const record = db.collection(processedMessagesCollection).doc(encodeURIComponent(key));
  const retentionMs = (options.retentionDays ?? 7) * 24 * 3600 * 1_000;
  return withDeadline(`firestore.applyOnce ${key}`, options.deadlineMs, () =>
    db.runTransaction(async (transaction): Promise<ApplyOnceResult<T>> => {
      const seen = await transaction.get(record);
      if (seen.exists) return { applied: false };
      const result = await effect(transaction);
      transaction.create(record, {
        key,
        applied_at: FieldValue.serverTimestamp(),
        expire_at: Timestamp.fromMillis(Date.now() + retentionMs),
      });
      return { applied: true, result };
    }),
  );
}
