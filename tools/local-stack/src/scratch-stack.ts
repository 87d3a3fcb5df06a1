import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serviceNames } from "@syncstack/shared";
import { freePort } from "./free-port.ts";
import { type RunningStack, type StackOptions, startStack } from "./stack.ts";

/** A whole stack of a test's or a benchmark's own, and the last lines it printed. */
export interface ScratchStack {
  stack: RunningStack;
  /** The stack's last 200 output lines (`<part> | <line>`), for a failure's message. */
  lines: string[];
  /** Stops the stack and removes its state. */
  stop(): Promise<void>;
}

/**
 * Starts a whole local stack on free ports with its state in a temporary directory, nothing
 * persisted: the emulators, the four services, and the optional parts named (`app`,
 * `telemetry`, `console`). The browser tests and `bench console` run on one each.
 */
export async function startScratchStack(options: {
  projectId: string;
  parts: readonly ("app" | "telemetry" | "console")[];
  serviceEnv?: Record<string, string>;
}): Promise<ScratchStack> {
  const stateDir = await mkdtemp(join(tmpdir(), `syncstack-${options.projectId}-`));
  const ports = {
    pubsub: await freePort(),
    firestore: await freePort(),
    auth: await freePort(),
    storage: await freePort(),
  } as StackOptions["ports"];
  for (const part of options.parts) ports[part] = await freePort();
  for (const name of serviceNames) ports[name] = await freePort();
  const lines: string[] = [];
  try {
    const stack = await startStack({
      projectId: options.projectId,
      ports,
      stateDir,
      persist: false,
      firestoreHeapMiB: 512,
      serviceEnv: { LOG_LEVEL: "WARNING", ...options.serviceEnv },
      output: (part) => (line) => {
        lines.push(`${part} | ${line}`);
        if (lines.length > 200) lines.shift();
      },
    });
    return {
      stack,
      lines,
      stop: async () => {
        await stack.stop();
        await rm(stateDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(stateDir, { recursive: true, force: true });
    throw error;
  }
}
