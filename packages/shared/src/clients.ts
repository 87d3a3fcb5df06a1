import { Firestore } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import type { BaseConfig } from "./config.ts";
import { crc32cValidator } from "./crc32c.ts";

/** The Google Cloud clients of a process, pointed at the emulators when configured. */
export interface Clients {
  firestore: Firestore;
  pubsub: PubSub;
  storage: Storage;
}

type ClientConfig = Pick<
  BaseConfig,
  | "GOOGLE_CLOUD_PROJECT"
  | "FIRESTORE_EMULATOR_HOST"
  | "PUBSUB_EMULATOR_HOST"
  | "STORAGE_EMULATOR_HOST"
>;

/** Builds the clients from config alone, never from ambient environment variables. */
export function createClients(config: ClientConfig): Clients {
  const projectId = config.GOOGLE_CLOUD_PROJECT;
  const firestore = new Firestore({
    projectId,
    ignoreUndefinedProperties: false,
    ...(config.FIRESTORE_EMULATOR_HOST ? { host: config.FIRESTORE_EMULATOR_HOST, ssl: false } : {}),
  });
  const pubsub = new PubSub({
    projectId,
    ...(config.PUBSUB_EMULATOR_HOST
      ? { apiEndpoint: config.PUBSUB_EMULATOR_HOST, emulatorMode: true }
      : {}),
  });
  const storage = new Storage({
    projectId,
    crc32cGenerator: crc32cValidator,
    ...(config.STORAGE_EMULATOR_HOST ? { apiEndpoint: config.STORAGE_EMULATOR_HOST } : {}),
  });
  return { firestore, pubsub, storage };
}

/** Closes the clients' channels so the process can exit. */
export async function closeClients(clients: Clients): Promise<void> {
  await Promise.allSettled([clients.firestore.terminate(), clients.pubsub.close()]);
}
