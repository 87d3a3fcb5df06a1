import assert from "node:assert/strict";
import type { Firestore } from "@google-cloud/firestore";
import {
  type CollectionSpec,
  collectionNamed,
  collections,
  type RealtimeUpdate,
} from "@syncstack/shared";
import { waitFor } from "@syncstack/shared/testing";
import type { AcceptedSync } from "./harness.ts";

const outbox = collectionNamed("_outbox").name;
const userStats = collectionNamed("user_stats").name;

/** What the checks found, for docs/reliability.md's figures. */
export interface Tally {
  accepted: number;
  documents: number;
  users: number;
  createdCounted: number;
}

/**
 * How many entries each queue of the collections registry (a collection that drains when the
 * system is idle: the outbox, the activity deltas) still holds.
 */
export async function pendingQueues(
  db: Firestore,
  registry: readonly CollectionSpec[] = collections,
): Promise<Record<string, number>> {
  const queues = registry.filter((collection) => collection.drains);
  const counts = await Promise.all(
    queues.map(async ({ name }) => (await db.collection(name).count().get()).data().count),
  );
  return Object.fromEntries(queues.map(({ name }, index) => [name, counts[index] ?? 0]));
}

/** Waits until every queue of the collections registry is empty: nothing is left pending. */
export async function queuesDrained(
  db: Firestore,
  timeoutMs = 60_000,
  registry: readonly CollectionSpec[] = collections,
): Promise<void> {
  let pending: Record<string, number> = {};
  await waitFor(
    "every queue to drain",
    async () => {
      pending = await pendingQueues(db, registry);
      return Object.values(pending).every((count) => count === 0) ? true : undefined;
    },
    timeoutMs,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: ${JSON.stringify(pending)}`);
  });
}

/** Waits until the sync outbox holds nothing: every committed event has been published. */
export async function outboxDrained(db: Firestore, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    "the sync outbox to drain",
    async () => ((await db.collection(outbox).limit(1).get()).empty ? true : undefined),
    timeoutMs,
  );
}

/**
 * Nothing accepted is lost and nothing is counted twice: every accepted write is in its
 * document, the outbox drains, and each author's `documents_created` equals the documents
 * they created in `collection` (a write whose answer was lost may exist without having been
 * accepted, and counts: it was committed with its event). Checked twice, a few seconds
 * apart, so a late duplicate would show. Then every queue of the collections registry
 * drains: nothing is left half-done.
 */
export async function assertNothingLost(
  db: Firestore,
  collection: string,
  accepted: readonly AcceptedSync[],
  drainMs = 60_000,
): Promise<Tally> {
  await outboxDrained(db, drainMs);
  const snapshot = await db.collection(collection).get();
  const documents = new Map(snapshot.docs.map((doc) => [doc.id, doc]));
  for (const write of accepted) {
    const doc = documents.get(write.document);
    assert.ok(doc, `accepted write ${write.document} v${write.version} has no document`);
    const version = Number(doc.get("version"));
    assert.ok(version >= write.version, `${write.document} is at v${version} < v${write.version}`);
  }
  const created = new Map<string, number>();
  for (const doc of snapshot.docs) {
    const author = String(doc.get("data.author"));
    created.set(author, (created.get(author) ?? 0) + 1);
  }
  const counted = async () => {
    const stats = await db.getAll(
      ...[...created.keys()].map((uid) => db.doc(`${userStats}/${uid}`)),
    );
    return stats.map((doc) => [doc.id, Number(doc.get("documents_created") ?? 0)] as const);
  };
  const mismatch = (found: (readonly [string, number])[]) =>
    found.filter(([uid, count]) => count !== created.get(uid));
  await waitFor(
    "user_stats to count every created document once",
    async () => ((await mismatch(await counted())).length === 0 ? true : undefined),
    drainMs,
  ).catch(async (error: unknown) => {
    const wrong = mismatch(await counted()).map(
      ([uid, count]) => `${uid}: counted ${count}, created ${created.get(uid)}`,
    );
    const pending = Object.entries(await pendingQueues(db))
      .map(([queue, count]) => `${count} in ${queue}`)
      .join(", ");
    throw new Error(`${(error as Error).message}: ${wrong.join("; ")}; pending: ${pending}`);
  });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  assert.deepEqual(mismatch(await counted()), [], "a late duplicate was counted");
  await queuesDrained(db, drainMs);
  return {
    accepted: accepted.length,
    documents: documents.size,
    users: created.size,
    createdCounted: [...created.values()].reduce((sum, n) => sum + n, 0),
  };
}

/**
 * Every version of every document arrived, and per document the versions first arrived in
 * order (a republished event may arrive again later; consumers deduplicate).
 */
export function assertDeliveredInOrder(
  events: readonly RealtimeUpdate[],
  versions: ReadonlyMap<string, number>,
): void {
  const firstArrivals = new Map<string, number[]>();
  for (const event of events) {
    const seen = firstArrivals.get(event.document) ?? [];
    if (!seen.includes(event.version)) seen.push(event.version);
    firstArrivals.set(event.document, seen);
  }
  for (const [document, version] of versions) {
    const expected = Array.from({ length: version }, (_, i) => i + 1);
    assert.deepEqual(firstArrivals.get(document), expected, `events of ${document}`);
  }
}
