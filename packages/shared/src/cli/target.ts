import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServiceName } from "../index.ts";

/** The endpoints file `./syncstack up` writes to `.syncstack/stack.json` (docs/contract.md). */
export interface StackFile {
  projectId: string;
  pubsub: string;
  firestore: string;
  /** The Firebase Auth emulator's `host:port` (what FIREBASE_AUTH_EMULATOR_HOST takes). */
  auth: string;
  storage: string;
  services: Record<ServiceName, string>;
  /** The demo notes app's URL (apps/notes), when the stack serves it. */
  app?: string;
  /** The telemetry collector's URL (tools/telemetry-collector), when the stack runs one. */
  telemetry?: string;
  buckets: { uploads: string; thumbnails: string; backups: string };
  /** The ops console's URL (tools/console-server), when the stack serves it. */
  console?: string;
}

/** What a command-line tool talks to. */
export type Target =
  /** Emulators named by *_EMULATOR_HOST variables (the test runner, docker-compose). */
  | { kind: "emulators"; projectId: string | undefined }
  /** The local stack found through its stack.json. */
  | { kind: "stack"; projectId: string; stack: StackFile }
  /** A real Google Cloud project the user named. */
  | { kind: "cloud"; projectId: string };

/** Why a tool has nothing to talk to; the message says what to do. */
export class NoTargetError extends Error {
  override name = "NoTargetError";
}

/** An emulator a tool may talk to, and the variable that names it. */
export type Emulator = "firestore" | "pubsub" | "storage";
const emulatorVariables: Record<Emulator, string> = {
  firestore: "FIRESTORE_EMULATOR_HOST",
  pubsub: "PUBSUB_EMULATOR_HOST",
  storage: "STORAGE_EMULATOR_HOST",
};

/** Where `./syncstack up` keeps its state: $SYNCSTACK_STATE_DIR, else `.syncstack/` in the repository. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return (
    env.SYNCSTACK_STATE_DIR ?? fileURLToPath(new URL("../../../../.syncstack", import.meta.url))
  );
}

/** The endpoints of the running local stack; throws a NoTargetError naming the fix. */
export async function readStackFile(env: NodeJS.ProcessEnv = process.env): Promise<StackFile> {
  const file = join(stateDir(env), "stack.json");
  try {
    return JSON.parse(await readFile(file, "utf8")) as StackFile;
  } catch {
    throw new NoTargetError(`no running stack (${file} is missing): start it with ./syncstack up`);
  }
}

/**
 * Finds what a CLI talks to, never falling through to a Google Cloud project nobody named:
 * emulators named in the environment, else the project the user named (`project`, from the
 * CLI's `projectFlag`), else the running local stack; otherwise a NoTargetError saying what
 * to do. Reads one file at most and contacts nothing.
 */
export async function findTarget(options: {
  project: string | undefined;
  /** The emulators the tool talks to: with one named in the environment, each must be. */
  uses: readonly Emulator[];
  /** The CLI's flag naming a Google Cloud project; null for a tool of the emulators only. */
  projectFlag?: string | null;
  env?: NodeJS.ProcessEnv;
}): Promise<Target> {
  const env = options.env ?? process.env;
  const named = Object.values(emulatorVariables).filter((name) => env[name]);
  if (named.length > 0) {
    // One emulator named and another not would send the other's calls to the cloud.
    const missing = options.uses.map((use) => emulatorVariables[use]).filter((name) => !env[name]);
    if (missing.length > 0) {
      throw new NoTargetError(
        `${named.join(" and ")} ${named.length > 1 ? "are" : "is"} set but ${missing.join(" and ")} not: set ${missing.length > 1 ? "them" : "it"} too, or unset ${named.length > 1 ? "them" : "it"} to use the running local stack`,
      );
    }
    return { kind: "emulators", projectId: options.project ?? env.GOOGLE_CLOUD_PROJECT };
  }
  if (options.project !== undefined) return { kind: "cloud", projectId: options.project };
  try {
    const stack = await readStackFile(env);
    return { kind: "stack", projectId: stack.projectId, stack };
  } catch {
    const file = join(stateDir(env), "stack.json");
    const flag = options.projectFlag === undefined ? "--project" : options.projectFlag;
    const variables = options.uses.map((use) => emulatorVariables[use]).join(" and ");
    throw new NoTargetError(
      flag === null
        ? `no local stack is running (${file} is missing): start the stack with ./syncstack up, or name the emulators with ${variables}`
        : `no local stack is running (${file} is missing) and no Google Cloud project is named: start the stack with ./syncstack up, or pass ${flag} <id> to use that project`,
    );
  }
}

/** The variables that point the Google client libraries (and a service's config) at a local stack. */
export function stackEnvironment(stack: StackFile): Record<string, string> {
  return {
    GOOGLE_CLOUD_PROJECT: stack.projectId,
    FIRESTORE_EMULATOR_HOST: stack.firestore,
    PUBSUB_EMULATOR_HOST: stack.pubsub,
    STORAGE_EMULATOR_HOST: stack.storage,
    // Nothing local may reach for the cloud metadata server.
    METADATA_SERVER_DETECTION: "none",
  };
}
