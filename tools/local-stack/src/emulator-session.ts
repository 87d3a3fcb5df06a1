import { startStorageEmulator } from "@syncstack/storage-emulator";
import {
  checkEmulatorPrerequisites,
  type RunningEmulator,
  startEmulator,
  stopAll,
} from "./emulators.ts";
import { freePort } from "./free-port.ts";

/** Emulators started on free ports for one run of tests or benchmarks. */
export interface EmulatorSession {
  pubsub: string;
  firestore: string;
  /** The storage emulator's URL (in memory, notifying the Pub/Sub emulator). */
  storage: string;
  /** Process groups of the Pub/Sub and Firestore emulators, for CPU accounting. */
  pids: { pubsub: number; firestore: number };
  stop(): Promise<void>;
}

/**
 * Starts the Pub/Sub and Firestore emulators on free ports; on failure stops what started and
 * throws with the emulators' last log lines.
 */
export async function startEmulatorSession(firestoreHeapMiB = 768): Promise<EmulatorSession> {
  const problems = checkEmulatorPrerequisites();
  if (problems.length > 0) throw new Error(`the emulators cannot run:\n  ${problems.join("\n  ")}`);
  const logs: string[] = [];
  const keep = (kind: string) => (line: string) => {
    logs.push(`${kind} | ${line}`);
    if (logs.length > 200) logs.shift();
  };
  const started: RunningEmulator[] = [];
  try {
    const [pubsubPort, firestorePort] = [await freePort(), await freePort()];
    const track = (emulator: RunningEmulator) => {
      started.push(emulator);
      return emulator;
    };
    const [pubsub, firestore] = await Promise.all([
      startEmulator("pubsub", { port: pubsubPort, onLog: keep("pubsub") }).then(track),
      startEmulator("firestore", {
        port: firestorePort,
        heapMiB: firestoreHeapMiB,
        onLog: keep("firestore"),
      }).then(track),
    ]);
    const storage = await startStorageEmulator({ port: 0, pubsubEmulatorHost: pubsub.host });
    return {
      pubsub: pubsub.host,
      firestore: firestore.host,
      storage: storage.url,
      pids: { pubsub: pubsub.pid, firestore: firestore.pid },
      stop: async () => {
        await storage.stop();
        await stopAll(started);
      },
    };
  } catch (error) {
    await stopAll(started).catch(() => {});
    throw new Error(`emulators did not start: ${(error as Error).message}\n${logs.join("\n")}`);
  }
}
