// Runs every test (or the files given) against real emulators started once for the run on
// free ports, so tests never touch a running dev stack. Test files isolate themselves by
// project id, which lets them run concurrently on the same emulators. Then the fault tests
// (`*.chaos.ts`), one file at a time: each starts a whole stack of its own and breaks it.
// `--chaos` runs only those, `--no-chaos` skips them. Between the two, the browser tests
// (`tests/e2e/*.e2e.ts`, one at a time: each drives Chromium against a stack of its own), which
// install Debian's Chromium first when it is missing.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { ensureChromium } from "./chromium.ts";
import { type EmulatorSession, startEmulatorSession } from "./emulator-session.ts";
import { repoRoot } from "./paths.ts";

// Local processes never reach for the cloud metadata server: nothing may leave loopback.
process.env.METADATA_SERVER_DETECTION = "none";

const defaultPatterns = [
  "packages/*/src/**/*.test.ts",
  "services/*/src/**/*.test.ts",
  "tools/*/src/**/*.test.ts",
  "tests/**/*.test.ts",
];

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(`usage: ./syncstack test [--chaos | --no-chaos] [<test file>...]

Runs check and the dependency audit, then every test (or the files given) against emulators
started for the run on free ports, then the browser tests (tests/e2e/*.e2e.ts, in Debian's
Chromium, installed with apt-get when missing) and the fault tests (tests/chaos/*.chaos.ts),
one file at a time.
  --chaos      only the fault tests
  --no-chaos   skip the fault tests
`);
  process.exit(0);
}
const chaosOnly = args.includes("--chaos");
const skipChaos = args.includes("--no-chaos");
const files = args.filter((arg) => !arg.startsWith("--"));
const chaosPatterns = ["tests/chaos/*.chaos.ts"];
const e2ePatterns = ["tests/e2e/*.e2e.ts"];
const needsBrowser = files.length > 0 ? files.some((file) => file.endsWith(".e2e.ts")) : !chaosOnly;
if (needsBrowser) {
  const problem = ensureChromium((line) => process.stderr.write(`${line}\n`));
  if (problem) {
    process.stderr.write(`cannot run the browser tests: ${problem}\n`);
    process.exit(1);
  }
}

let session: EmulatorSession;
try {
  session = await startEmulatorSession();
} catch (error) {
  process.stderr.write(`cannot run the tests: ${(error as Error).message}\n`);
  process.exit(1);
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void session.stop().finally(() => process.exit(130)));
}

async function runTests(patterns: string[], concurrency: number): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      "--conditions=source",
      "--test",
      `--test-concurrency=${concurrency}`,
      "--test-timeout=300000",
      ...patterns,
    ],
    {
      cwd: repoRoot,
      stdio: "inherit",
      env: {
        ...process.env,
        SYNCSTACK_TEST: "1",
        PUBSUB_EMULATOR_HOST: session.pubsub,
        FIRESTORE_EMULATOR_HOST: session.firestore,
        STORAGE_EMULATOR_HOST: session.storage,
      },
    },
  );
  const [code] = (await once(child, "exit")) as [number | null];
  return code ?? 1;
}

let code = 0;
if (files.length > 0) {
  // Browser and fault tests each start a whole stack (an Auth emulator among them): one at a time.
  const alone = (file: string) => file.endsWith(".e2e.ts") || file.endsWith(".chaos.ts");
  const together = files.filter((file) => !alone(file));
  if (together.length > 0) code = await runTests(together, 2);
  for (const file of files.filter(alone)) if (code === 0) code = await runTests([file], 1);
} else {
  if (!chaosOnly) code = await runTests(defaultPatterns, 2);
  if (code === 0 && !chaosOnly) code = await runTests(e2ePatterns, 1);
  if (code === 0 && !skipChaos) code = await runTests(chaosPatterns, 1);
}
await session.stop();
process.exit(code);
