import type { ServiceContext, ServiceDefinition } from "@syncstack/shared";
import {
  emulatorTokenVerifier,
  googleTokenVerifier,
  requireUser,
  type TokenVerifier,
} from "./auth.ts";
import { listChanges } from "./changes.ts";
import type { SyncConfig } from "./config.ts";
import { createUser } from "./create-user.ts";
import { onUserCreated } from "./on-user-created.ts";
import { Outbox } from "./outbox.ts";
import { syncBatch } from "./sync-batch.ts";
import { syncDocument } from "./sync-document.ts";

/** The token verifier the configuration asks for; emulator tokens are refused on Cloud Run. */
export function tokenVerifierFor(config: SyncConfig): TokenVerifier {
  if (config.FIREBASE_AUTH_EMULATOR_HOST === undefined)
    return googleTokenVerifier(config.GOOGLE_CLOUD_PROJECT);
  if (config.K_SERVICE !== undefined) {
    throw new Error(
      "FIREBASE_AUTH_EMULATOR_HOST must not be set on Cloud Run: it accepts unsigned tokens",
    );
  }
  return emulatorTokenVerifier(config.GOOGLE_CLOUD_PROJECT);
}

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
  const writer = { firestore, outbox, deadlineMs: config.DEADLINE_MS };
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
