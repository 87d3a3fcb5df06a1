import { Firestore } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { type BaseConfig, Publisher } from "@syncstack/shared";

/**
 * A Firestore client for `projectId` on the configured emulator or production. Exports read
 * with `useBigInt` so 64-bit integers stay exact; restores into another project need their own.
 */
export function firestoreFor(
  config: Pick<BaseConfig, "FIRESTORE_EMULATOR_HOST">,
  projectId: string,
  useBigInt = false,
): Firestore {
  return new Firestore({
    projectId,
    useBigInt,
    ...(config.FIRESTORE_EMULATOR_HOST ? { host: config.FIRESTORE_EMULATOR_HOST, ssl: false } : {}),
  });
}

/**
 * The project a client reads (the client's `projectId`, missing from its typings); every
 * client here is built with one (createClients, firestoreFor), so it is known before a request.
 */
export function projectOf(db: Firestore): string {
  return (db as unknown as { projectId: string }).projectId;
}

/**
 * A publisher to `projectId`'s topics on the configured emulator or production: a restore
 * into another project publishes its events there, where that project's consumers are.
 */
export function publisherFor(
  config: Pick<BaseConfig, "PUBSUB_EMULATOR_HOST" | "DEADLINE_MS">,
  projectId: string,
): { publisher: Publisher; close: () => Promise<void> } {
  const pubsub = new PubSub({
    projectId,
    ...(config.PUBSUB_EMULATOR_HOST
      ? { apiEndpoint: config.PUBSUB_EMULATOR_HOST, emulatorMode: true }
      : {}),
  });
  const publisher = new Publisher(pubsub, { deadlineMs: config.DEADLINE_MS });
  return {
    publisher,
    close: async () => {
      await publisher.close();
      await pubsub.close();
    },
  };
}
