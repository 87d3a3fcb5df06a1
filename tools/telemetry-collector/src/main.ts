// The local stack's telemetry collector: `node src/main.ts --port 4318`.
import { createLogger, serve } from "@syncstack/shared";
import { parseCommandLine, usageError } from "@syncstack/shared/cli";
import { createCollectorApp } from "./collector-app.ts";
import { TelemetryStore } from "./telemetry-store.ts";

const usage = `usage: telemetry-collector [--port <n>] [--max-traces <n>]

Receives OTLP/HTTP JSON traces and metrics (POST /v1/traces, /v1/metrics) in memory and serves
them: GET /api/traces, /api/traces/<traceId>, /api/metrics (docs/observability.md).

  --port <n>        default 4318 (OTLP/HTTP's)
  --max-traces <n>  traces kept, the oldest dropped first (default 1000)
  -h, --help        this text`;

const { values } = parseCommandLine(
  {
    options: {
      port: { type: "string", default: "4318" },
      "max-traces": { type: "string", default: "1000" },
      help: { type: "boolean", short: "h" },
    },
  },
  usage,
  usageError("telemetry-collector", usage),
);
const number = (name: string, value: unknown) => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    process.stderr.write(
      `telemetry-collector: --${name} ${String(value)} is not a positive integer\n`,
    );
    process.exit(2);
  }
  return parsed;
};
const port = number("port", values.port);
const store = new TelemetryStore({ maxTraces: number("max-traces", values["max-traces"]) });
// Warnings only: a line per export received would drown the stack's own output.
const logger = createLogger({
  projectId: "local",
  level: "WARNING",
  fields: { service: "telemetry" },
});
await serve(createCollectorApp(store, logger), {
  port,
  host: "127.0.0.1",
  logger,
  graceMs: 1_000,
  handleSignals: true,
});
process.stdout.write(`telemetry collector listening on http://127.0.0.1:${port}\n`);
