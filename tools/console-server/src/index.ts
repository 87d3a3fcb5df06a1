export { type ConsoleConfig, consoleEnvSchema } from "./config.ts";
export {
  type ConsoleDependencies,
  type ConsoleServer,
  createConsoleServer,
} from "./console-app.ts";
