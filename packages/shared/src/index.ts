export {
  AccessRules,
  type Action,
  type Caller,
  callerOf,
  type Decision,
  decide,
  feedScope,
  loadAccessRules,
  mayCreate,
  membersIn,
  notFound,
  type Ownership,
  type Policy,
  parseAccessRules,
  readersOf,
  refusal,
  storedMembers,
} from "./access-rules.ts";
export {
  type AuthUser,
  googleTokenVerifier,
  requireUser,
  type TokenVerifier,
  tokenVerifierFor,
  userOf,
} from "./auth.ts";
export { createClients } from "./clients.ts";
export {
  type BaseConfig,
  baseEnvSchema,
  ConfigError,
  loadConfig,
  withDefaultPort,
} from "./config.ts";
export { crc32cValidator } from "./crc32c.ts";
export { withDeadline } from "./deadline.ts";
export { describeIssues } from "./describe-issues.ts";
export { AppError, describeError, isAlreadyExists, isRetryable } from "./errors.ts";
export { firestoreIdProblem, loneSurrogateProblem, maxIdBytes } from "./firestore-ids.ts";
export { firestoreJson } from "./firestore-json.ts";
export {
  grpcCodeOf,
  grpcStatus,
  grpcStatusName,
  preconditionFailures,
} from "./grpc-status.ts";
export { createApp } from "./http/app.ts";
export {
  cors,
  corsAllowedHeaders,
  corsExposedHeaders,
  corsOriginsSchema,
} from "./http/cors.ts";
export { noteRequest, type RequestFacts } from "./http/request-facts.ts";
export { type ServeOptions, type Serving, serve } from "./http/serve.ts";
export { traceIdHeader } from "./http/trace-requests.ts";
export {
  processedMessageRecord,
  processedMessagesCollection,
} from "./idempotency.ts";
export { createLogger, type LogFields, type Logger } from "./logger.ts";
export {
  type GaugeSpec,
  type Instruments,
  instruments,
  metricNames,
  observeGauges,
} from "./metrics.ts";
export { AttemptTracker } from "./pubsub/attempts.ts";
export {
  type Consumer,
  consumer,
  deadLetterAttributes,
  replayAttribute,
  subscriptionId,
} from "./pubsub/consumer.ts";
export { compileFilter } from "./pubsub/filter.ts";
export { Publisher } from "./pubsub/publisher.ts";
export { pushRoutes } from "./pubsub/push.ts";
export {
  type CollectionName,
  type CollectionSpec,
  type CompositeIndexSpec,
  collectionNamed,
  collectionNames,
  collections,
} from "./registry/collections.ts";
export { type ServiceName, serviceNames } from "./registry/services.ts";
export { topicByName, topics } from "./registry/topics.ts";
export {
  closeServiceContext,
  createServiceApp,
  createServiceContext,
  runService,
  type ServiceContext,
  type ServiceDefinition,
} from "./service.ts";
export { defaultBucketNames } from "./storage-topology.ts";
export {
  type Clock,
  intervalSchedule,
  type Schedule,
  type SweeperOptions,
  startSweeper,
  systemClock,
} from "./sweeper.ts";
export {
  currentTraceCarrier,
  type MetricExporterKind,
  setupTelemetry,
  type Telemetry,
  type TraceCarrier,
  type TraceExporterKind,
  traced,
  tracer,
  untraced,
  withTraceCarrier,
} from "./telemetry.ts";
export {
  contentKey,
  defaultTombstoneRetentionMs,
  isSyncDocument,
  planToolWrite,
  servedBySync,
  type ToolOutcome,
  type ToolWritePlan,
  tombstoneOf,
} from "./tool-writes/plan-tool-write.ts";
export { toolOutboxCollection } from "./tool-writes/tool-outbox.ts";
export {
  type ToolEvents,
  type ToolItem,
  type ToolItemResult,
  ToolWriter,
  type ToolWriterOptions,
} from "./tool-writes/tool-writer.ts";
export { backupRequested } from "./topics/backup-requested.ts";
export { fileUploaded, type StorageObject, storageObjectSchema } from "./topics/file-uploaded.ts";
export {
  isToolEvent,
  type RealtimeUpdate,
  realtimeUpdateOrderingKey,
  realtimeUpdates,
  toolSources,
} from "./topics/realtime-updates.ts";
export { statsTick } from "./topics/stats-tick.ts";
export {
  deadLetterSubscriptionName,
  deadLetterTopicName,
  pushPath,
  type SubscriptionSpec,
  schemaVersionAttribute,
  subscriptionName,
  type TopicSpec,
} from "./topics/topic.ts";
export { userCreated } from "./topics/user-created.ts";
