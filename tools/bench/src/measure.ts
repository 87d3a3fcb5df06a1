import { readFileSync } from "node:fs";
import { groupCpuMs, groupJitCpuMs } from "@syncstack/local-stack";

/** Measured rounds per benchmark figure, the median reported (`BENCH_ROUNDS`). */
export const benchRounds = Number(process.env.BENCH_ROUNDS ?? 3);

/**
 * Least seconds of load before measuring (`BENCH_WARMUP_SECONDS`): the emulators are JVMs whose
 * JIT compilers take a large share of the machine in their first half minute or more under load.
 */
const benchWarmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 30);

/** Most seconds of warm-up (`BENCH_WARMUP_MAX_SECONDS`) when the JIT compilers stay busy. */
const benchWarmupMaxSeconds = Number(process.env.BENCH_WARMUP_MAX_SECONDS ?? 180);

/** JIT compilers below this share of a core over a window count as quiet. */
const quietJitShare = 0.03;
const jitWindowMs = 5_000;

/**
 * Repeats `step` (some load through the emulators) for at least `benchWarmupSeconds`, then
 * until the emulators' JIT compilers (`pgids`) used under 3% of a core over the last 5 s, or
 * `benchWarmupMaxSeconds` passed. Returns the seconds it took. How long compiling lasts depends
 * on the load: the files benchmark's emulators still compiled (8-20% of a core) at 30-50 s.
 * `BENCH_WARMUP_TRACE=1` prints the compilers' share for each window.
 */
export async function warmUp(step: () => Promise<void>, pgids: readonly number[]): Promise<number> {
  const jitMs = () => pgids.reduce((sum, pgid) => sum + groupJitCpuMs(pgid), 0);
  const start = performance.now();
  let windowStart = start;
  let windowJit = jitMs();
  for (;;) {
    await step();
    const now = performance.now();
    const seconds = (now - start) / 1_000;
    if (seconds >= benchWarmupMaxSeconds) return seconds;
    if (now - windowStart < jitWindowMs) continue;
    const jit = jitMs();
    const share = (jit - windowJit) / (now - windowStart);
    if (process.env.BENCH_WARMUP_TRACE) {
      process.stderr.write(`warm-up ${seconds.toFixed(0)} s: JIT ${(share * 100).toFixed(1)}%\n`);
    }
    if (seconds >= benchWarmupSeconds && share < quietJitShare) return seconds;
    windowStart = now;
    windowJit = jit;
  }
}

/**
 * The round whose ratio is the median (the upper one of an even count), its ratio, and every
 * round's ratio in the order they ran, for the report.
 */
export function medianRound<T>(
  rounds: readonly T[],
  ratioOf: (round: T) => number,
): { median: T; ratio: number; all: string } {
  const sorted = [...rounds].sort((a, b) => ratioOf(a) - ratioOf(b));
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median === undefined) throw new Error("no rounds were measured");
  const all = rounds.map((round) => ratioOf(round).toFixed(2)).join(", ");
  return { median, ratio: ratioOf(median), all };
}

/** Latency percentiles and throughput of one load phase. */
export interface PhaseResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** The value below which `fraction` of the sorted samples fall. */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/**
 * Runs `operation` from `concurrency` workers for `seconds` (after a short warm-up that is
 * not counted) and reports throughput and latency. Each call gets a unique sequence number
 * and the index of the worker making it (0 to `concurrency - 1`), e.g. to act as its own user.
 */
export async function runPhase(
  concurrency: number,
  seconds: number,
  operation: (sequence: number, worker: number) => Promise<void>,
  warmupSeconds = 0.5,
): Promise<PhaseResult> {
  let sequence = 0;
  const warmupEnd = performance.now() + warmupSeconds * 1_000;
  const end = warmupEnd + seconds * 1_000;
  const latencies: number[] = [];
  let errors = 0;
  const worker = async (index: number) => {
    while (performance.now() < end) {
      const started = performance.now();
      const counted = started >= warmupEnd;
      try {
        await operation(sequence++, index);
        if (counted) latencies.push(performance.now() - started);
      } catch {
        if (counted) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    seconds,
    perSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
  };
}

/**
 * For each of `workers` clients, the next of its `count` items to use: 0, 1, ..., count - 1,
 * 0, 1, ... per client, e.g. so that after its first few writes every write of a client
 * updates a document it created.
 */
export function cyclePerWorker(workers: number, count: number): (worker: number) => number {
  const used = new Array<number>(workers).fill(0);
  return (worker) => {
    const times = used[worker] ?? 0;
    used[worker] = times + 1;
    return times % count;
  };
}

/** Formats a number for a table: integers plain, small values with one decimal. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return value >= 100 ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
}

/** A process's peak resident set so far (VmHWM), in KiB. */
export function peakRssKiB(pid: number): number {
  return statusKiB(pid, "VmHWM");
}

/** A process's resident set now (VmRSS), in KiB. */
export function rssKiB(pid: number): number {
  return statusKiB(pid, "VmRSS");
}

function statusKiB(pid: number, field: "VmHWM" | "VmRSS"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN);
}

/** Polls `check` every 10 ms until it holds; throws naming `what` past the timeout. */
export async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** CPU time spent per operation by each named process group during one phase. */
export type CpuShare = Record<string, number>;

/**
 * Starts counting CPU time of process groups (and of this process, as "client"); the returned
 * function gives each one's CPU ms per operation for `operations` done meanwhile. CPU time,
 * unlike wall time, hardly depends on what else the shared machine runs.
 */
export function meterCpu(groups: Record<string, number>): (operations: number) => CpuShare {
  const read = () => {
    const now: CpuShare = {};
    for (const [name, pgid] of Object.entries(groups)) now[name] = groupCpuMs(pgid);
    const self = process.cpuUsage();
    now.client = (self.user + self.system) / 1_000;
    return now;
  };
  const before = read();
  return (operations) => {
    const after = read();
    const share: CpuShare = {};
    for (const name of Object.keys(after)) {
      share[name] = ((after[name] ?? 0) - (before[name] ?? 0)) / Math.max(1, operations);
    }
    return share;
  };
}

/** "firestore 1.2, pubsub 0.4, ..." in CPU ms per operation. */
export function formatCpu(share: CpuShare): string {
  return Object.entries(share)
    .map(([name, ms]) => `${name} ${ms.toFixed(2)}`)
    .join(", ");
}
