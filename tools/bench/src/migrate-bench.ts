import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DocumentData, Firestore, Timestamp } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import type { MigrationTransform } from "@syncstack/migrate";
import { defaultCheckpointPath, defaultReportPath, runMigration } from "@syncstack/migrate";
import { Publisher, realtimeUpdates } from "@syncstack/shared";
import { resetFirestore } from "@syncstack/shared/testing";
import {
  benchRounds,
  type CpuShare,
  fmt,
  formatCpu,
  medianRound,
  meterCpu,
  warmUp,
} from "./measure.ts";

export interface BenchEnv {
  pubsub: string;
  firestore: string;
  pids: { pubsub: number; firestore: number };
}

const projectId = "demo-bench-migrate";
const documents = Number(process.env.BENCH_MIGRATE_DOCS ?? 50_000);
const warmupDocuments = Math.min(documents, 5_000);
// ~300-byte documents with a timestamp and a nested map, like the sync benchmark's, stored as
// the sync API stores them: the migration gives each a new version, updated_at and event.
const payload = (n: number): DocumentData => ({
  data: {
    title: `note ${n}`,
    body: "x".repeat(200),
    tags: ["bench", "migrate"],
    meta: { n, author: "bench" },
  },
  version: 1,
  created_by: "bench",
  readers: { bench: new Timestamp(1_700_000_000 + n, 0) },
  sync_source: "bench",
  updated_at: new Timestamp(1_700_000_000 + n, 0),
});
const idOf = (n: number) => `n${String(n).padStart(6, "0")}`;
const addField: MigrationTransform = (doc) => ({
  ...doc,
  data: { ...(doc.data as DocumentData), schema_version: 2 },
});

/**
 * `./syncstack bench migrate`: documents per second migrating 50,000 documents (a copy, a copy with
 * a transform, a dry run), next to raw BulkWriter writes of the same documents in the same run.
 * Each phase starts from an empty database holding only the seeded source.
 */
export async function benchMigrate(env: BenchEnv): Promise<string> {
  const db = new Firestore({ projectId, host: env.firestore, ssl: false, useBigInt: true });
  const dir = await mkdtemp(join(tmpdir(), "migrate-bench-"));
  // Every written document's realtime-updates event is published, as the CLI does.
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  await pubsub.createTopic(realtimeUpdates.name).catch((error: { code?: number }) => {
    if (error.code !== 6) throw error;
  });
  const publisher = new Publisher(pubsub, { deadlineMs: 60_000 });
  // The emulator's reset deletes the documents but keeps every version of them, and reading
  // a collection whose documents have deleted versions costs it more (a probe: streaming 50,000
  // documents 2.0-2.7 s against 1.2-1.7 s for a never-used name), so every phase reads a
  // source whose name the run has not used before. The writes go to the same two names every
  // time, raw BulkWriter's and the migrations' target, which the reset keeps alike.
  let phases = 0;
  const names = () => ({ source: `source-${phases++}`, raw: "raw", target: "target" });
  const migrate = (
    collections: Collections,
    transform: MigrationTransform | undefined,
    dryRun: boolean,
  ) => migrateOnce(db, publisher, dir, collections, transform, dryRun);
  const phase = async (
    label: string,
    work: (collections: Collections) => Promise<Check | undefined>,
  ) => {
    const collections = names();
    await freshSource(db, env.firestore, collections.source, documents);
    let check: Check | undefined;
    const timing = await timed(
      documents,
      async () => {
        check = await work(collections);
      },
      env.pids,
    );
    // Checking the target counts its documents (a scan on the emulator): not part of the time.
    await check?.();
    process.stderr.write(`migrate bench: ${label} ${fmt(timing.perSecond)} documents/s\n`);
    return timing;
  };
  try {
    // The emulators are JVMs: their JIT compilers keep a large share of the machine busy for
    // the first minute or more of load, and a phase measured meanwhile runs up to twice as slow
    // as the same phase later (with a fixed warm-up of 20,000 documents the raw phase before the
    // copy still ran 0.6-0.8 of the one after it). So: warm up until the compilers go quiet,
    // then paired rounds whose order alternates, the median round reported.
    const warmedSeconds = await warmUp(async () => {
      const collections = names();
      await freshSource(db, env.firestore, collections.source, warmupDocuments);
      await writeAll(db, collections.raw, warmupDocuments);
      await migrate(collections, undefined, false);
    }, Object.values(env.pids));
    const rounds: Round[] = [];
    for (let round = 0; round < benchRounds; round++) {
      const raw = () => phase("raw", (collections) => writeAll(db, collections.raw));
      const copy = () => phase("copy", (collections) => migrate(collections, undefined, false));
      const [first, second] = round % 2 === 0 ? [raw, copy] : [copy, raw];
      const one = await first();
      const two = await second();
      const [rawTiming, copyTiming] = round % 2 === 0 ? [one, two] : [two, one];
      rounds.push({
        raw: rawTiming,
        copy: copyTiming,
        transform: await phase("transform", (collections) => migrate(collections, addField, false)),
        dryRun: await phase("dry run", (collections) => migrate(collections, addField, true)),
      });
    }
    const ratioOf = (phase: keyof Omit<Round, "raw">) => (round: Round) =>
      round[phase].perSecond / round.raw.perSecond;
    const copy = medianRound(rounds, ratioOf("copy"));
    const transform = medianRound(rounds, ratioOf("transform"));
    const dryRun = medianRound(rounds, ratioOf("dryRun"));
    const cell = (median: { ratio: number; all: string }) =>
      benchRounds > 1 ? `${median.ratio.toFixed(2)} (${median.all})` : median.ratio.toFixed(2);
    return [
      `migrate benchmark: ${documents.toLocaleString("en-US")} sync documents of ~300 bytes, page size 500, after ${fmt(warmedSeconds)} s of warm-up (until the emulators' JIT compilers went quiet), ${benchRounds} rounds of raw BulkWriter and the copy (alternating which goes first), then the transform and the dry run; each phase from a reset database holding the seeded source, the median round shown (every round's ratio in brackets). The migrations read the targets' versions (getAll per page, or none while the target has none), stamp version, updated_at and readers, commit 100 documents with their outbox entry at a time, and publish every document's realtime-updates event`,
      "",
      "| phase | seconds | documents/s | vs raw BulkWriter of its round | CPU ms per document |",
      "| --- | ---: | ---: | ---: | --- |",
      row("raw BulkWriter set(), throttling off (copy's median round)", copy.median.raw, "1.00"),
      row("./syncstack migrate (copy)", copy.median.copy, cell(copy)),
      row(
        "./syncstack migrate --transform (adds a field)",
        transform.median.transform,
        cell(transform),
      ),
      row(
        "./syncstack migrate --dry-run --transform (reads only)",
        dryRun.median.dryRun,
        cell(dryRun),
      ),
      "",
      `migrate (copy) / raw BulkWriter: ${copy.ratio.toFixed(2)}, rounds ${copy.all} (target >= 0.70)`,
    ].join("\n");
  } finally {
    await publisher.close();
    await pubsub.close();
    await db.terminate();
    await rm(dir, { recursive: true, force: true });
  }
}

interface Timing {
  seconds: number;
  perSecond: number;
  /** CPU ms per document of the emulators and of this process (the tool), for the phase. */
  cpu?: CpuShare;
}

async function timed(
  count: number,
  work: () => Promise<void>,
  pids: BenchEnv["pids"],
): Promise<Timing> {
  const cpu = meterCpu({ firestore: pids.firestore, pubsub: pids.pubsub });
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1_000;
  return { seconds, perSecond: count / seconds, cpu: cpu(count) };
}

/** A phase's collections: the seeded source, raw BulkWriter's target and the migration's. */
interface Collections {
  source: string;
  raw: string;
  target: string;
}

/** Empties the database (the emulator slows as its heap fills) and seeds `source`. */
async function freshSource(
  db: Firestore,
  host: string,
  source: string,
  count: number,
): Promise<void> {
  await resetFirestore(projectId, host);
  await writeAll(db, source, count);
}

/** A check of a phase's outcome, run after its time is taken. */
type Check = () => Promise<void>;

async function writeAll(
  db: Firestore,
  collection: string,
  count = documents,
): Promise<Check | undefined> {
  const writer = db.bulkWriter({ throttling: false });
  const target = db.collection(collection);
  let failed = 0;
  for (let n = 0; n < count; n++) {
    writer.set(target.doc(idOf(n)), payload(n)).catch(() => failed++);
  }
  await writer.close();
  if (failed > 0) throw new Error(`${failed} writes to ${collection} failed`);
  return undefined;
}

async function migrateOnce(
  db: Firestore,
  publisher: Publisher,
  dir: string,
  { source, target: to }: Collections,
  transform: MigrationTransform | undefined,
  dryRun: boolean,
): Promise<Check> {
  const checkpointPath = defaultCheckpointPath(dir, source, to);
  const result = await runMigration(
    db,
    {
      from: source,
      to,
      where: [],
      transform,
      transformPath: undefined,
      recursive: false,
      deleteSource: false,
      dryRun,
      resume: false,
      restart: true,
      pageSize: 500,
      checkpointPath,
      reportPath: defaultReportPath(checkpointPath, dryRun),
      project: projectId,
      throttling: false,
      maxWriteAttempts: 10,
      publisher,
    },
    { progress: { write: () => true }, out: { write: () => true } },
  );
  return async () => {
    const expected = dryRun ? 0 : result.counts.read;
    const written = Number((await db.collection(to).count().get()).data().count);
    if (result.counts.failed > 0 || written !== expected || result.counts.read === 0) {
      throw new Error(
        `${source} -> ${to}: ${JSON.stringify(result.counts)}, ${written} in the target`,
      );
    }
  };
}

interface Round {
  raw: Timing;
  copy: Timing;
  transform: Timing;
  dryRun: Timing;
}

function row(name: string, result: Timing, ratio: string): string {
  const cpu = result.cpu ? formatCpu(result.cpu) : "";
  return `| ${name} | ${result.seconds.toFixed(1)} | ${fmt(result.perSecond)} | ${ratio} | ${cpu} |`;
}
