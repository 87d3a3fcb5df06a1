import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { repoRoot } from "./paths.ts";
import type { StackFile } from "./stack.ts";

/** The endpoints of the running local stack (`.syncstack/stack.json`); throws naming the fix. */
export async function readStackFile(): Promise<StackFile> {
  const stateDir = process.env.SYNCSTACK_STATE_DIR ?? join(repoRoot, ".syncstack");
  try {
    return JSON.parse(await readFile(join(stateDir, "stack.json"), "utf8")) as StackFile;
  } catch {
    throw new Error(
      `no running stack (${join(stateDir, "stack.json")} is missing): start it with ./syncstack up`,
    );
  }
}
