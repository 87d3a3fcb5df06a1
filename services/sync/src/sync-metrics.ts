import type { Firestore, Timestamp } from "@google-cloud/firestore";
import { type Logger, metricNames, observeGauges, withDeadline } from "@syncstack/shared";
import { outboxCollection } from "./outbox.ts";

/**
 * The sync service's gauges, read at each metric export: the outbox's backlog (entries not
 * yet known published, from the database, so a crashed instance's leftovers count) and its
 * oldest entry's age, and the instance's open live streams. Returns the function removing them.
 */
export function observeSyncGauges(
  db: Firestore,
  streams: { readonly size: number },
  logger: Logger,
  deadlineMs: number,
): () => void {
  return observeGauges(
    [
      { name: metricNames.outboxBacklog, description: "Outbox entries not yet published" },
      {
        name: metricNames.outboxOldestAge,
        description: "Age of the oldest outbox entry (0 when empty)",
        unit: "s",
      },
      { name: metricNames.liveStreams, description: "Open live change streams of the instance" },
    ],
    async (record) => {
      record(metricNames.liveStreams, streams.size);
      try {
        const outbox = db.collection(outboxCollection);
        const [count, oldest] = await withDeadline("firestore.outbox.gauges", deadlineMs, () =>
          Promise.all([outbox.count().get(), outbox.orderBy("created_at").limit(1).get()]),
        );
        const createdAt = oldest.docs[0]?.get("created_at") as Timestamp | undefined;
        record(metricNames.outboxBacklog, count.data().count);
        record(
          metricNames.outboxOldestAge,
          createdAt ? Math.max(0, Date.now() - createdAt.toMillis()) / 1_000 : 0,
        );
      } catch (error) {
        logger.warn("reading the outbox's gauges failed", { error });
      }
    },
  );
}
