import { type Firestore, Timestamp } from "@google-cloud/firestore";

/** A document to store with an explicit clock. */
export interface LateDocument {
  path: string;
  /** Its clock: the time Firestore took the commit's request, before it became visible. */
  clock: Timestamp;
  data?: Record<string, unknown>;
  version?: number;
}

/**
 * Commits documents in the shape sync writes them (data, version, readers.<uid>, updated_at,
 * created_by, sync_source) but with their clock set to an earlier time, in one commit: the
 * race of a commit whose request came before a read and that became visible only after it.
 */
export async function commitLate(
  firestore: Firestore,
  documents: LateDocument[],
  uid = "alice",
): Promise<void> {
  const batch = firestore.batch();
  for (const { path, clock, data, version } of documents) {
    batch.set(firestore.doc(path), {
      data: data ?? {},
      version: version ?? 1,
      sync_source: "other-instance",
      created_by: uid,
      readers: { [uid]: clock },
      created_at: clock,
      updated_at: clock,
    });
  }
  await batch.commit();
}

/** A time `ms` milliseconds before another. */
export function before(time: Timestamp, ms: number): Timestamp {
  const nanos = time.nanoseconds - Math.round(ms * 1e6);
  const carry = Math.floor(nanos / 1e9);
  return new Timestamp(time.seconds + carry, nanos - carry * 1e9);
}

/** The clock sync stamped on a stored document. */
export async function clockOf(firestore: Firestore, path: string): Promise<Timestamp> {
  return (await firestore.doc(path).get()).get("updated_at") as Timestamp;
}
