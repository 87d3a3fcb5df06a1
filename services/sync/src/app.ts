import {
  type AccessRules,
  type Clock,
  loadAccessRules,
  requireUser,
  type ServiceContext,
  type ServiceDefinition,
  startSweeper,
  systemClock,
  type TokenVerifier,
  tokenVerifierFor,
} from "@syncstack/shared";
import { ChangeStreams } from "./change-stream.ts";
import { listChanges } from "./changes.ts";
import type { SyncConfig } from "./config.ts";
import { createUser } from "./create-user.ts";
import { deleteDocument, getDocument, patchDocument } from "./documents.ts";
import { LiveChanges } from "./live-changes.ts";
import { onUserCreated } from "./on-user-created.ts";
import { Outbox } from "./outbox.ts";
import { OutboxSweeper } from "./outbox-sweeper.ts";
import { defaultAccessRulesFile } from "./rules-file.ts";
import { syncBatch } from "./sync-batch.ts";
import { syncDocument } from "./sync-document.ts";
import { observeSyncGauges } from "./sync-metrics.ts";
import { DocumentWriter } from "./write-document.ts";

/** The sync service: HTTP ingress, change events through the outbox, the change feed, user profiles. */
export function syncService(
  context: ServiceContext<SyncConfig>,
  verifyToken: TokenVerifier = tokenVerifierFor(context.config),
  now: Clock = systemClock,
  rules: AccessRules = loadAccessRules(context.config.ACCESS_RULES_FILE ?? defaultAccessRulesFile),
): ServiceDefinition & { outbox: Outbox; sweeper: OutboxSweeper; streams: ChangeStreams } {
  const { config, firestore } = context;
  const tombstoneRetentionMs = config.TOMBSTONE_RETENTION_DAYS * 86_400_000;
  const outbox = new Outbox(firestore, context.publisher, context.logger, {
    deadlineMs: config.DEADLINE_MS,
  });
  const sweeper = new OutboxSweeper(firestore, outbox, context.publisher, context.logger, {
    deadlineMs: config.DEADLINE_MS,
    sweepAgeMs: config.OUTBOX_SWEEP_AGE_MS,
    now,
  });
  const writer = new DocumentWriter(firestore, {
    deadlineMs: config.DEADLINE_MS,
    outbox,
    rules,
    tombstoneRetentionMs,
    now,
  });
  const settleMs = config.CHANGE_SETTLE_MS;
  const live = new LiveChanges(context.logger, {
    share: config.STREAM_LISTENERS === "shared",
    settleMs,
    lingerMs: config.STREAM_LISTENER_LINGER_MS,
  });
  const streams = new ChangeStreams(live, context.logger, {
    heartbeatMs: config.STREAM_HEARTBEAT_MS,
    maxLifetimeMs: config.STREAM_MAX_LIFETIME_MS,
    maxConnections: config.STREAM_MAX_CONNECTIONS,
    maxBufferBytes: config.STREAM_MAX_BUFFER_BYTES,
    deadlineMs: config.DEADLINE_MS,
    settleMs,
    maxCatchUps: config.STREAM_MAX_CATCHUPS,
  });
  return {
    outbox,
    sweeper,
    streams,
    consumers: [onUserCreated(firestore, config.DEADLINE_MS)],
    corsOrigins: config.CORS_ORIGINS,
    routes: (app) => {
      const auth = requireUser(verifyToken);
      app.post("/v1/sync", auth, syncDocument(writer));
      app.post("/v1/sync:batch", auth, syncBatch(writer));
      app.get(
        "/v1/changes",
        auth,
        listChanges(firestore, rules, {
          deadlineMs: config.DEADLINE_MS,
          tombstoneRetentionMs,
          settleMs,
          now,
          streams,
        }),
      );
      const document = "/v1/documents/:collection/:document";
      app.get(document, auth, getDocument(firestore, rules, config.DEADLINE_MS));
      app.patch(document, auth, patchDocument(writer));
      app.delete(document, auth, deleteDocument(writer));
      app.post("/v1/users", auth, createUser(context.publisher));
    },
    drain: () => streams.drain(),
    start: () => {
      const stopGauges = observeSyncGauges(firestore, streams, context.logger, config.DEADLINE_MS);
      const stop = startSweeper(() => sweeper.sweep(), {
        intervalMs: config.OUTBOX_SWEEP_INTERVAL_MS,
        onError: (error) => context.logger.error("outbox sweep failed", { error }),
      });
      return async () => {
        stopGauges();
        live.close();
        await stop();
        await outbox.drain();
      };
    },
  };
}

/** A caller's feed of a collection, for the fan-out benchmark (`./syncstack bench fanout`). */
export { feedOf } from "./change-feed.ts";
/** The environment the service reads, for tools that build the app in-process. */
export { syncEnvSchema } from "./config.ts";
/** Live changes from Firestore listeners, for the fan-out benchmark. */
export { LiveChanges } from "./live-changes.ts";
