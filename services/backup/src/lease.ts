import { type Firestore, Timestamp } from "@google-cloud/firestore";
import {
  type Clock,
  type CollectionName,
  isAlreadyExists,
  systemClock,
  withDeadline,
} from "@syncstack/shared";

/** The lease document: at most one backup runs at a time across all instances. */
export const leasePath = `${"_locks" satisfies CollectionName}/backup`;

/** The outcome of asking for the lease. */
export type LeaseGrant =
  | { acquired: true; expired: string | undefined }
  | { acquired: false; holder: string; expiresAt: Timestamp };

/** The lease document of `holder` taken or renewed at `now`, for `leaseMs`. */
export function leaseFor(holder: string, leaseMs: number, now: number) {
  return {
    holder,
    acquired_at: Timestamp.fromMillis(now),
    expires_at: Timestamp.fromMillis(now + leaseMs),
  };
}

/** Whether a lease until `expiresAt` still keeps others out at `now` (it ends at that instant). */
export function leaseIsLive(expiresAt: Timestamp | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt.toMillis() > now;
}

/**
 * Takes the lease for `holder` unless another holder's lease is still live; an expired one
 * is taken over and its holder returned as `expired` (that backup died mid-run). With no
 * lease document, one `create` (which fails if another instance created it first) takes it;
 * only when one exists does a transaction read it and decide.
 */
export async function acquireLease(
  db: Firestore,
  holder: string,
  leaseMs: number,
  deadlineMs: number,
  now: Clock = systemClock,
): Promise<LeaseGrant> {
  const ref = db.doc(leasePath);
  try {
    await withDeadline("firestore.lease.create", deadlineMs, () =>
      ref.create(leaseFor(holder, leaseMs, now())),
    );
    return { acquired: true, expired: undefined };
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  return withDeadline("firestore.lease.acquire", deadlineMs, () =>
    db.runTransaction(async (transaction) => {
      const current = await transaction.get(ref);
      const currentHolder = current.get("holder") as string | undefined;
      const expiresAt = current.get("expires_at") as Timestamp | undefined;
      const at = now();
      if (currentHolder && expiresAt && leaseIsLive(expiresAt, at)) {
        return { acquired: false as const, holder: currentHolder, expiresAt };
      }
      transaction.set(ref, leaseFor(holder, leaseMs, at));
      return { acquired: true as const, expired: currentHolder };
    }),
  );
}

/** Extends the lease if `holder` still has it; false when it was lost (taken over). */
export async function renewLease(
  db: Firestore,
  holder: string,
  leaseMs: number,
  deadlineMs: number,
  now: Clock = systemClock,
): Promise<boolean> {
  const ref = db.doc(leasePath);
  return withDeadline("firestore.lease.renew", deadlineMs, () =>
    db.runTransaction(async (transaction) => {
      const current = await transaction.get(ref);
      if (current.get("holder") !== holder) return false;
      transaction.update(ref, { expires_at: Timestamp.fromMillis(now() + leaseMs) });
      return true;
    }),
  );
}

/** Releases the lease if `holder` still has it. */
export async function releaseLease(
  db: Firestore,
  holder: string,
  deadlineMs: number,
): Promise<void> {
  const ref = db.doc(leasePath);
  await withDeadline("firestore.lease.release", deadlineMs, () =>
    db.runTransaction(async (transaction) => {
      const current = await transaction.get(ref);
      if (current.get("holder") === holder) transaction.delete(ref);
    }),
  );
}
