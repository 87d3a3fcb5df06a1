import { join } from "node:path";
import { PubSub } from "@google-cloud/pubsub";
import { freePort, repoRoot, startService } from "@syncstack/local-stack";
import { realtimeUpdates } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { emulatorIdToken, resetFirestore } from "@syncstack/shared/testing";
import { keepAliveAgent, requestJson } from "./http-client.ts";
import { benchRounds, fmt, medianRound, type PhaseResult, runPhase, warmUp } from "./measure.ts";
import { type BenchService, startBenchService } from "./service-process.ts";
import type { BenchEnv } from "./sync-bench.ts";

const projectId = "demo-bench-sync-telemetry";
const concurrency = Number(process.env.BENCH_CLIENTS ?? 32);
const phaseSeconds = Number(process.env.BENCH_SECONDS ?? 5);
/** The target: throughput with telemetry collected, as a share of without. */
const target = 0.9;

interface Pair {
  off: PhaseResult;
  on: PhaseResult;
}

/**
 * `./syncstack bench sync-telemetry`: POST /v1/sync at 32 clients against two sync processes
 * alike but for telemetry: one exporting nothing, one exporting traces and metrics to the
 * local stack's collector (its own process, as `./syncstack up` runs it, with the stack's
 * export settings), alternately in the same run; the ratio of their throughputs per round.
 */
export async function benchSyncTelemetry(env: BenchEnv): Promise<string> {
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  await provisionTopology(pubsub, [realtimeUpdates], { serviceUrls: {}, nativePolicies: false });
  const collectorPort = await freePort();
  const collectorUrl = `http://127.0.0.1:${collectorPort}`;
  const collector = startService("telemetry", {
    command: process.execPath,
    args: [
      "--conditions=source",
      join(repoRoot, "tools/telemetry-collector/src/main.ts"),
      `--port=${collectorPort}`,
    ],
    env: { ...process.env },
    cwd: repoRoot,
    log: (line) => process.stderr.write(`telemetry | ${line}\n`),
  });
  const common = {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: env.pubsub,
    FIRESTORE_EMULATOR_HOST: env.firestore,
  };
  const services: BenchService[] = [];
  const agent = keepAliveAgent();
  const tokens = Array.from({ length: concurrency }, (_, worker) =>
    emulatorIdToken(projectId, `bench-user-${worker}`),
  );
  const rows: string[] = [];
  let warmedSeconds = 0;
  let ratio = Number.NaN;
  let collected = "";
  try {
    await waitHealthy(`${collectorUrl}/healthz`);
    const off = await startBenchService("sync", {
      ...common,
      OTEL_TRACES_EXPORTER: "none",
      OTEL_METRICS_EXPORTER: "none",
    });
    services.push(off);
    const on = await startBenchService("sync", {
      ...common,
      OTEL_TRACES_EXPORTER: "otlp",
      OTEL_METRICS_EXPORTER: "otlp",
      OTEL_EXPORTER_OTLP_ENDPOINT: collectorUrl,
      OTEL_BSP_SCHEDULE_DELAY: "500",
      OTEL_METRIC_EXPORT_INTERVAL: "5000",
    });
    services.push(on);
    const phase = (service: BenchService, tag: string) => {
      const port = Number(new URL(service.url).port);
      return runPhase(concurrency, phaseSeconds, async (n, worker) => {
        const { status } = await requestJson(agent, port, {
          method: "POST",
          path: "/v1/sync",
          token: tokens[worker] ?? "",
          body: {
            collection: "bench_notes",
            document: `${tag}-${n}`,
            data: { title: `note ${n}`, body: "x".repeat(200), tags: ["bench"] },
            source: "bench",
          },
        });
        if (status !== 200) throw new Error(`status ${status}`);
      });
    };
    let warmup = 0;
    warmedSeconds = await warmUp(async () => {
      warmup++;
      await resetFirestore(projectId, env.firestore);
      await phase(off, `w${warmup}-off`);
      await phase(on, `w${warmup}-on`);
    }, Object.values(env.pids));
    const pairs: Pair[] = [];
    for (let round = 0; round < benchRounds; round++) {
      // Which goes first alternates, so neither always meets the emulator's fuller heap.
      const order = round % 2 === 0 ? (["off", "on"] as const) : (["on", "off"] as const);
      const pair: Partial<Pair> = {};
      for (const mode of order) {
        await resetFirestore(projectId, env.firestore);
        pair[mode] = await phase(mode === "off" ? off : on, `r${round}-${mode}`);
      }
      pairs.push(pair as Pair);
    }
    const median = medianRound(pairs, (pair) => pair.on.perSecond / pair.off.perSecond);
    ratio = median.ratio;
    rows.push(
      row(`telemetry off x${concurrency}`, median.median.off, "1.00"),
      row(
        `telemetry on (traces + metrics to the collector) x${concurrency}`,
        median.median.on,
        benchRounds > 1 ? `${ratio.toFixed(2)} (${median.all})` : ratio.toFixed(2),
      ),
    );
    // Proof that "on" collected: the collector holds the service's traces and request series.
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const traces = (await (await fetch(`${collectorUrl}/api/traces?limit=1000`)).json()) as {
      traces: { root: string }[];
    };
    const series = (await (
      await fetch(`${collectorUrl}/api/metrics?name=syncstack_http_server_duration_seconds`)
    ).json()) as { series: { attributes: Record<string, unknown>; points: { value: number }[] }[] };
    const requests = series.series
      .filter((s) => s.attributes.route === "/v1/sync")
      .reduce((sum, s) => sum + (s.points.at(-1)?.value ?? 0), 0);
    if (traces.traces.length === 0 || requests === 0)
      throw new Error("the collector received no traces or no request metrics");
    collected = `the collector held ${traces.traces.length} traces (its bound: the most recent 1,000) and counted ${fmt(requests)} POST /v1/sync requests of the service with telemetry on`;
  } finally {
    agent.destroy();
    await Promise.all(services.map((service) => service.process.stop(10_000)));
    await collector.stop(5_000);
    await pubsub.close();
  }
  return [
    `sync telemetry benchmark: after ${fmt(warmedSeconds)} s of warm-up, ${benchRounds} rounds of ${phaseSeconds} s phases at ${concurrency} clients (median shown), each phase from an empty database; two sync processes alike but for telemetry, loaded in turn`,
    "",
    "| phase | writes/s | p50 ms | p99 ms | vs telemetry off (each round) |",
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows,
    "",
    `with / without telemetry: ${ratio.toFixed(2)} (target >= ${target.toFixed(2)}); ${collected}`,
  ].join("\n");
}

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

function row(name: string, result: PhaseResult, ratio: string): string {
  const errors = result.errors > 0 ? ` (${result.errors} errors)` : "";
  return `| ${name}${errors} | ${fmt(result.perSecond)} | ${fmt(result.p50Ms)} | ${fmt(result.p99Ms)} | ${ratio} |`;
}
