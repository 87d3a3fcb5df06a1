import type { ServiceName } from "@syncstack/shared";
import { type RunCommand, runCommand } from "./run-command.ts";

/**
 * Compiles a service and what it imports from the workspace, then deploys it alone to
 * `outDir`: its dist/ and production dependencies, runnable with `node dist/main.js`. The
 * Dockerfile's build stage runs exactly this (tools/deploy/src/package-cli.ts).
 */
export async function packageService(
  service: ServiceName,
  outDir: string,
  run: RunCommand = runCommand,
): Promise<void> {
  await run("pnpm", ["--filter", `@syncstack/${service}...`, "--silent", "run", "build"]);
  await run("pnpm", [
    "--filter",
    `@syncstack/${service}`,
    // pnpm 10 deploys injected workspace packages only; the legacy mode copies them as built.
    "deploy",
    "--legacy",
    "--prod",
    "--silent",
    outDir,
  ]);
}
