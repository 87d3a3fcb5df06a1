// `./syncstack bench [sync|analytics|migrate|files ...]`: benchmarks against emulators started on free ports.
// Figures are ratios against a baseline measured in the same run: this machine is shared.

import { type EmulatorSession, startEmulatorSession } from "@syncstack/local-stack";
import { benchAnalytics } from "./analytics-bench.ts";
import { benchBackup } from "./backup-bench.ts";
import { benchFiles } from "./files-bench.ts";
import { benchMigrate } from "./migrate-bench.ts";
import { benchSync } from "./sync-bench.ts";

process.env.METADATA_SERVER_DETECTION = "none";

const benches: Record<string, (env: EmulatorSession) => Promise<string>> = {
  sync: benchSync,
  analytics: benchAnalytics,
  migrate: benchMigrate,
  files: benchFiles,
  backup: benchBackup,
};
const chosen = process.argv.slice(2);
if (chosen.includes("--help") || chosen.includes("-h")) {
  process.stdout.write(`usage: ./syncstack bench [${Object.keys(benches).join("|")}]...

Runs the benchmarks given (default: all) against emulators started on free ports for the
run, and prints each one's table. Figures are ratios against a baseline measured in the
same run.
`);
  process.exit(0);
}
const names = chosen.length > 0 ? chosen : Object.keys(benches);
for (const name of names) {
  if (!benches[name]) {
    process.stderr.write(
      `bench: unknown benchmark ${name}; known: ${Object.keys(benches).join(", ")}\n`,
    );
    process.exit(2);
  }
}
// A larger heap than the tests use: a benchmark writes tens of thousands of documents.
const session = await startEmulatorSession(2_048);
let failed = false;
try {
  for (const name of names) process.stdout.write(`\n${await benches[name]?.(session)}\n`);
} catch (error) {
  failed = true;
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
} finally {
  await session.stop();
}
process.exit(failed ? 1 : 0);
