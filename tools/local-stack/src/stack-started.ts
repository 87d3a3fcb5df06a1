import type { ChildProcess } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { StackFile } from "@syncstack/shared/cli";
import { waitFor } from "@syncstack/shared/testing";

/**
 * Waits until a stack started as `child` has written `stateDir/stack.json`, which it does once
 * every part is ready; fails with the stack's output if it exits first.
 */
export function stackStarted(
  child: ChildProcess,
  stateDir: string,
  output: readonly string[],
  timeoutMs: number,
): Promise<StackFile> {
  return waitFor(
    "stack.json",
    async () => {
      if (child.exitCode !== null) throw new Error(`stack exited early:\n${output.join("")}`);
      const text = await readFile(join(stateDir, "stack.json"), "utf8").catch(() => undefined);
      return text ? (JSON.parse(text) as StackFile) : undefined;
    },
    timeoutMs,
  );
}
