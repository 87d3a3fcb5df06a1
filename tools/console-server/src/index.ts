export {
  type ConsoleConfig,
  consoleEnvSchema,
  type TelemetrySource,
  telemetrySourceOf,
} from "./config.ts";
export {
  type ConsoleDependencies,
  type ConsoleServer,
  createConsoleServer,
} from "./console-app.ts";
