// Each service killed with SIGKILL in the middle of its work and restarted: nothing is lost.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { backupRequested, statsTick } from "@syncstack/shared";
import { waitFor } from "@syncstack/shared/testing";
import { type ChaosStack, SyncLoad, scenario, startChaosStack } from "./harness.ts";
import { assertNothingLost } from "./invariants.ts";
import { report } from "./report.ts";

let chaos: ChaosStack;

before(async () => {
  chaos = await startChaosStack("demo-chaos-crashes");
});
after(async () => {
  await chaos?.stop();
});

/** Kills a service's whole process group outright, then starts it again. */
async function crash(service: "sync" | "files" | "backup" | "analytics"): Promise<void> {
  chaos.stack.parts[service].signal("SIGKILL");
  await chaos.stack.parts[service].restart();
}

for (const service of ["sync", "analytics"] as const) {
  test(`${service} killed mid-stream of syncs: every accepted sync kept and counted once`, () =>
    scenario(chaos, async () => {
      const collection = `notes_kill_${service}`;
      const load = new SyncLoad(chaos, {
        collection,
        clients: 6,
        users: 3,
        userPrefix: `kill-${service}`,
        updatesPerDocument: 1,
      }).start();
      try {
        await load.acceptedMore(60);
        await crash(service);
        await load.acceptedMore(60);
      } finally {
        await load.stop();
      }
      const tally = await assertNothingLost(chaos.db, collection, load.accepted);
      await report(`kill-${service}`, { ...tally, failures: load.failures });
    }));
}

test("files killed mid-stream of uploads: every upload gets its record", async () => {
  const uploads = chaos.storage.bucket(chaos.stack.file.buckets.uploads);
  const names = Array.from({ length: 16 }, (_, i) => `chaos/note-${i}.txt`);
  for (const [i, name] of names.entries()) {
    await uploads.file(name).save(`note ${i}\n`, { resumable: false, contentType: "text/plain" });
    if (i === 5) await crash("files");
  }
  const recorded = async () => {
    const snapshot = await chaos.db.collection("files").where("processed", "==", true).get();
    return new Set(snapshot.docs.map((doc) => doc.get("name") as string));
  };
  const records = await waitFor(
    "a record of every upload",
    async () => {
      const found = await recorded();
      return names.every((name) => found.has(name)) ? found.size : undefined;
    },
    60_000,
  ).catch(async (error: unknown) => {
    const found = await recorded();
    const missing = names.filter((name) => !found.has(name));
    throw new Error(`${(error as Error).message}: missing ${missing.join(", ")}`);
  });
  assert.equal(records, names.length, "one record per upload, no extra");
  await report("kill-files", { uploads: names.length, records });
});

test("backup killed midway: marked failed when the next backup runs, which completes", async () => {
  const collection = "chaos_backup_source";
  const writer = chaos.db.bulkWriter();
  for (let i = 0; i < 6_000; i++) {
    writer.set(chaos.db.collection(collection).doc(`d${i}`), { n: i, text: "x".repeat(200) });
  }
  await writer.close();
  await chaos.db.doc("config/backup").set({
    enabled: true,
    collections: [collection],
    storage_bucket: chaos.stack.file.buckets.backups,
    retention_days: 7,
  });
  await requestBackup();
  const running = (await backupWithStatus("in_progress", 30_000)).id;
  await crash("backup");
  // The lease of the killed run expires (5 s here); the next request takes it over.
  await new Promise((resolve) => setTimeout(resolve, 6_000));
  await requestBackup();
  const completed = await backupWithStatus("completed", 60_000);
  assert.equal(completed.get("document_count"), 6_000);
  const killed = await waitFor(
    "the killed backup to be settled",
    async () => {
      const status = (await chaos.db.doc(`backups/${running}`).get()).get("status");
      return status === "in_progress" ? undefined : status;
    },
    30_000,
  );
  assert.ok(killed === "failed" || killed === "completed", `killed backup ended ${String(killed)}`);
  await report("kill-backup", { documents: 6_000, killedBackup: killed, next: "completed" });
});

test("analytics killed during a stats tick: the tick is aggregated once after restart", async () => {
  const tick = { tick_at: new Date().toISOString() };
  await chaos.publisher.publish(statsTick, tick);
  await crash("analytics");
  const daily = await waitFor(
    "daily_stats of the tick",
    async () => {
      const doc = await chaos.db.doc("analytics/daily_stats").get();
      const at = doc.get("timestamp")?.toDate?.() as Date | undefined;
      return at && at.getTime() >= Date.parse(tick.tick_at) - 60_000 ? doc : undefined;
    },
    60_000,
  );
  assert.equal(typeof daily.get("total_users"), "number");
  const history = await chaos.db.collection("analytics_history").get();
  assert.equal(history.size, 1, "one history record for one tick, however often delivered");
  await report("kill-analytics-tick", { ticks: 1, history: history.size });
});

function requestBackup(): Promise<string> {
  return chaos.publisher.publish(backupRequested, {
    requested_at: new Date().toISOString(),
    type: "manual",
  });
}

/** The first backup record found with `status`, waiting up to `timeoutMs` for one. */
function backupWithStatus(status: string, timeoutMs: number) {
  return waitFor(
    `a backup ${status}`,
    async () => {
      const found = await chaos.db.collection("backups").where("status", "==", status).get();
      return found.docs[0];
    },
    timeoutMs,
  );
}
