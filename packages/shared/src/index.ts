export {
  type AuthUser,
  emulatorTokenVerifier,
  fetchGoogleKeys,
  googleJwksUrl,
  googleTokenVerifier,
  type KeyFetcher,
  requireUser,
  type TokenVerifier,
  tokenVerifierFor,
  userOf,
} from "./auth.ts";
export { type Clients, closeClients, createClients } from "./clients.ts";
export {
  type BaseConfig,
  baseEnvSchema,
  ConfigError,
  loadConfig,
  withDefaultPort,
} from "./config.ts";
export { Crc32c, crc32cValidator } from "./crc32c.ts";
export { withDeadline } from "./deadline.ts";
export {
  AppError,
  describeError,
  type ErrorCode,
  errorStatus,
  isAlreadyExists,
  isRetryable,
} from "./errors.ts";
export { firestoreIdProblem, loneSurrogateProblem, maxIdBytes } from "./firestore-ids.ts";
export {
  type GrpcStatusCode,
  type GrpcStatusName,
  grpcCodeOf,
  grpcStatus,
  grpcStatusName,
  preconditionFailures,
} from "./grpc-status.ts";
export { type AppOptions, createApp, type ReadinessCheck } from "./http/app.ts";
export { type ServeOptions, type Serving, serve } from "./http/serve.ts";
export { type ApplyOnceResult, applyOnce, processedMessagesCollection } from "./idempotency.ts";
export { jwksFetcher } from "./jwt.ts";
export { createLogger, type LogFields, type Logger, type Severity } from "./logger.ts";
export { AttemptTracker, backoffMs } from "./pubsub/attempts.ts";
export {
  type Consumer,
  type ConsumerRuntime,
  consumer,
  createDeliveryProcessor,
  type Delivery,
  deadLetterAttributes,
  type MessageHandler,
  type Outcome,
  type ReceivedMessage,
  replayAttribute,
  subscriptionId,
} from "./pubsub/consumer.ts";
export { type AttributeFilter, compileFilter } from "./pubsub/filter.ts";
export { type ProvisionOptions, provisionTopology } from "./pubsub/provision.ts";
export { Publisher, type PublishOptions } from "./pubsub/publisher.ts";
export { type PullConsumer, startPullConsumer } from "./pubsub/pull.ts";
export { pushRoutes, subscriptionOf } from "./pubsub/push.ts";
export {
  googleOidcJwksUrl,
  type PushAuthOptions,
  type PushTokenVerifier,
  pushAuthEnabled,
  pushTokenVerifier,
  pushTokenVerifierFor,
  requirePushToken,
} from "./pubsub/push-auth.ts";
export {
  closeServiceContext,
  createServiceApp,
  createServiceContext,
  runService,
  type ServiceContext,
  type ServiceDefinition,
} from "./service.ts";
export {
  type BucketRole,
  type BucketSpec,
  bucketSpecs,
  defaultBucketNames,
  provisionBuckets,
} from "./storage-topology.ts";
export { setupTelemetry, type Telemetry, type TraceExporterKind, tracer } from "./telemetry.ts";
export * from "./topics/backup-requested.ts";
export * from "./topics/file-uploaded.ts";
export * from "./topics/realtime-updates.ts";
export { topicByName, topics } from "./topics/registry.ts";
export * from "./topics/stats-tick.ts";
export * from "./topics/topic.ts";
export * from "./topics/user-created.ts";
