import {
  requireUser,
  type ServiceContext,
  type ServiceDefinition,
  type TokenVerifier,
  tokenVerifierFor,
} from "@syncstack/shared";
import { listChanges } from "./changes.ts";
import type { SyncConfig } from "./config.ts";
import { createUser } from "./create-user.ts";
import { onUserCreated } from "./on-user-created.ts";
import { Outbox } from "./outbox.ts";
import { syncBatch } from "./sync-batch.ts";
import { syncDocument } from "./sync-document.ts";
import { DocumentWriter } from "./write-document.ts";

/** The sync service: HTTP ingress, change events through the outbox, the change feed, user profiles. */
export function syncService(
  context: ServiceContext<SyncConfig>,
  verifyToken: TokenVerifier = tokenVerifierFor(context.config),
): ServiceDefinition & { outbox: Outbox } {
  const { config, firestore } = context;
  const outbox = new Outbox(firestore, context.publisher, context.logger, {
    deadlineMs: config.DEADLINE_MS,
    sweepAgeMs: config.OUTBOX_SWEEP_AGE_MS,
  });
  const writer = new DocumentWriter(firestore, outbox, config.DEADLINE_MS);
  return {
    outbox,
    consumers: [onUserCreated(firestore, config.DEADLINE_MS)],
    routes: (app) => {
      const auth = requireUser(verifyToken);
      app.post("/v1/sync", auth, syncDocument(writer));
      app.post("/v1/sync:batch", auth, syncBatch(writer));
      app.get("/v1/changes", auth, listChanges(firestore, config.DEADLINE_MS));
      app.post("/v1/users", auth, createUser(context.publisher));
    },
    start: () => outbox.start(config.OUTBOX_SWEEP_INTERVAL_MS),
  };
}

/** The environment the service reads, for tools that build the app in-process. */
export { syncEnvSchema } from "./config.ts";
