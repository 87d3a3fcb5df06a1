import { spawn } from "node:child_process";
import { repoRoot } from "@syncstack/local-stack";

/** Runs a command; output goes to ours (or is returned with `capture`); fails naming it. */
export type RunCommand = (
  command: string,
  args: readonly string[],
  options?: { capture?: boolean; cwd?: string },
) => Promise<string>;

/** Runs commands for real, from the repository root unless told otherwise. */
export const runCommand: RunCommand = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      stdio: ["ignore", options.capture ? "pipe" : "inherit", "inherit"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.once("error", (error) =>
      reject(new Error(`could not run ${command}: ${error.message}`, { cause: error })),
    );
    child.once("exit", (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(" ")} failed (${signal ?? `exit ${code}`})`));
    });
  });
