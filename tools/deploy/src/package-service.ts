import { cp } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import type { ServiceName } from "@syncstack/shared";
import { type RunCommand, runCommand } from "./run-command.ts";
import { consoleAppDir } from "./terraform/console.ts";

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
  await deployAlone(`@syncstack/${service}`, outDir, run);
}

/**
 * The ops console packaged like a service: its server (tools/console-server) compiled with
 * what it imports, and the app built by Vite into `<outDir>/app` (CONSOLE_APP_DIR).
 */
export async function packageConsole(outDir: string, run: RunCommand = runCommand): Promise<void> {
  await deployAlone("@syncstack/console-server", outDir, run);
  await run("pnpm", ["--filter", "@syncstack/console", "--silent", "run", "build"]);
  await cp(join(repoRoot, "apps", "console", "dist"), join(outDir, consoleAppDir), {
    recursive: true,
  });
}

async function deployAlone(name: string, outDir: string, run: RunCommand): Promise<void> {
  await run("pnpm", ["--filter", `${name}...`, "--silent", "run", "build"]);
  await run("pnpm", [
    "--filter",
    name,
    // pnpm 10 deploys injected workspace packages only; the legacy mode copies them as built.
    "deploy",
    "--legacy",
    "--prod",
    "--silent",
    outDir,
  ]);
}
