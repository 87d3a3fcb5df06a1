// `./syncstack bench [sync|feed|analytics|migrate|files|backup|stream|client|live|fanout|sync-telemetry|console ...]`: benchmarks against emulators started on free ports.
// Figures are ratios against a baseline measured in the same run: this machine is shared.

import { type EmulatorSession, startEmulatorSession } from "@syncstack/local-stack";
import { benchAnalytics } from "./analytics-bench.ts";
import { benchBackup } from "./backup-bench.ts";
import { benchClient } from "./client-bench.ts";
import { benchConsole } from "./console-bench.ts";
import { benchFanout } from "./fanout-bench.ts";
import { benchFeed } from "./feed-bench.ts";
import { benchFiles } from "./files-bench.ts";
import { benchLive } from "./live-bench.ts";
import { benchMigrate } from "./migrate-bench.ts";
import { benchStream } from "./stream-bench.ts";
import { benchSync } from "./sync-bench.ts";
import { benchSyncTelemetry } from "./sync-telemetry-bench.ts";

process.env.METADATA_SERVER_DETECTION = "none";

const benches: Record<string, (env: EmulatorSession) => Promise<string>> = {
  sync: benchSync,
  "sync-telemetry": benchSyncTelemetry,
  feed: benchFeed,
  analytics: benchAnalytics,
  migrate: benchMigrate,
  files: benchFiles,
  backup: benchBackup,
  stream: benchStream,
  client: benchClient,
  live: benchLive,
  fanout: benchFanout,
};
// The Firestore emulator keeps about 1.8 KiB of heap per document written even after the
// database is reset (measured: +90 MiB per 50,000 documents written and deleted, after a full
// collection), and slows as its heap fills: the migrate benchmark writes over a million.
const firestoreHeapMiB: Record<string, number> = { migrate: 8_192 };
/** Benchmarks that start a whole stack of their own (startStack), with no session to share. */
const ownStack: Record<string, () => Promise<string>> = { console: benchConsole };
const chosen = process.argv.slice(2);
if (chosen.includes("--help") || chosen.includes("-h")) {
  process.stdout.write(`usage: ./syncstack bench [${[...Object.keys(benches), ...Object.keys(ownStack)].join("|")}]...

Runs the benchmarks given (default: all), each against emulators started on free ports for
it, and prints each one's table. Figures are ratios against a baseline measured in the
same run.
`);
  process.exit(0);
}
const known = [...Object.keys(benches), ...Object.keys(ownStack)];
const names = chosen.length > 0 ? chosen : known;
for (const name of names) {
  if (!known.includes(name)) {
    process.stderr.write(`bench: unknown benchmark ${name}; known: ${known.join(", ")}\n`);
    process.exit(2);
  }
}
let failed = false;
for (const name of names) {
  const alone = ownStack[name];
  if (alone) {
    try {
      process.stdout.write(`\n${await alone()}\n`);
    } catch (error) {
      failed = true;
      process.stderr.write(`bench ${name} failed: ${(error as Error).stack}\n`);
    }
    continue;
  }
  // Emulators of its own for each benchmark, with a larger heap than the tests use: one
  // writes tens of thousands of documents, and the Firestore emulator keeps everything it
  // was given, so a benchmark after another would run against a full JVM heap.
  const session = await startEmulatorSession(firestoreHeapMiB[name] ?? 2_048);
  try {
    process.stdout.write(`\n${await benches[name]?.(session)}\n`);
  } catch (error) {
    failed = true;
    process.stderr.write(`bench ${name} failed: ${(error as Error).stack}\n`);
  } finally {
    await session.stop();
  }
}
process.exit(failed ? 1 : 0);
