import { setFlagsFromString } from "node:v8";
import type { Express } from "express";
import type { z } from "zod";
import { type Clients, closeClients, createClients } from "./clients.ts";
import { type BaseConfig, ConfigError, loadConfig } from "./config.ts";
import { createApp } from "./http/app.ts";
import { serve } from "./http/serve.ts";
import { createLogger, type Logger } from "./logger.ts";
import { AttemptTracker } from "./pubsub/attempts.ts";
import type { Consumer } from "./pubsub/consumer.ts";
import { Publisher } from "./pubsub/publisher.ts";
import { type PullConsumer, startPullConsumer } from "./pubsub/pull.ts";
import { isPushPath, pushRoutes, subscriptionOf } from "./pubsub/push.ts";
import { type PushTokenVerifier, pushTokenVerifierFor } from "./pubsub/push-auth.ts";
import type { CollectionName } from "./registry/collections.ts";
import { type ServiceName, serviceRuntimeV8Flags } from "./registry/services.ts";
import { setupTelemetry } from "./telemetry.ts";

/** Read (and never written) by the readiness check: a cheap Firestore round trip. */
const readinessCollection = "_readyz" satisfies CollectionName;

/** Everything a service's handlers are given: config, logger and clients. */
export interface ServiceContext<C extends BaseConfig = BaseConfig> extends Clients {
  name: ServiceName;
  config: C;
  logger: Logger;
  publisher: Publisher;
  attempts: AttemptTracker;
}

/** A service: its Pub/Sub consumers and HTTP routes. */
export interface ServiceDefinition {
  consumers: readonly Consumer[];
  routes?: (app: Express) => void;
  /** Background work started with the server (sweepers), stopped on shutdown. */
  start?: () => () => Promise<void>;
  /** Called when the server starts draining (SIGTERM): end long-lived responses such as streams. */
  drain?: () => Promise<void> | void;
  /** Browser origins allowed to call its routes (CORS); none by default. */
  corsOrigins?: readonly string[];
}

/** Builds a context from config; tests pass their own logger or clients. */
export function createServiceContext<C extends BaseConfig>(
  name: ServiceName,
  config: C,
  overrides: Partial<Pick<ServiceContext<C>, "logger" | keyof Clients>> = {},
): ServiceContext<C> {
  const clients = { ...createClients(config), ...overrides };
  const logger =
    overrides.logger ??
    createLogger({
      projectId: config.GOOGLE_CLOUD_PROJECT,
      level: config.LOG_LEVEL,
      fields: { service: name },
    });
  return {
    ...clients,
    name,
    config,
    logger,
    publisher: new Publisher(clients.pubsub, { deadlineMs: config.DEADLINE_MS }),
    attempts: new AttemptTracker(),
  };
}

/** Flushes and closes the context's publisher and clients, so the process can exit. */
export async function closeServiceContext(context: ServiceContext): Promise<void> {
  await context.publisher.close();
  await closeClients(context);
}

/**
 * The service's express app: the shared factory plus its push endpoints (authenticated when
 * the configuration asks for it; tests pass their own verifier) and routes.
 */
export function createServiceApp(
  context: ServiceContext,
  definition: ServiceDefinition,
  verifyPush: PushTokenVerifier | undefined = pushTokenVerifierFor(context.config),
): Express {
  return createApp({
    name: context.name,
    logger: context.logger,
    bodyLimitBytes: context.config.BODY_LIMIT_BYTES,
    ...(definition.corsOrigins ? { corsOrigins: definition.corsOrigins } : {}),
    deferTracing: isPushPath,
    // Firestore only: with the outbox a Pub/Sub outage does not stop an instance's work, so it
    // must not take the instance out of rotation; nor may a least-privilege account list topics.
    readiness: {
      firestore: () => context.firestore.collection(readinessCollection).limit(1).get(),
    },
    routes: (app) => {
      app.use(pushRoutes(definition.consumers, { ...context, service: context.name }, verifyPush));
      definition.routes?.(app);
    },
  });
}

/**
 * A service's main: parse config (exit 1 naming the bad variable), wire telemetry and
 * clients, listen, start pull consumers and background work, drain on SIGTERM.
 */
export async function runService<S extends z.ZodType<BaseConfig>>(
  name: ServiceName,
  schema: S,
  define: (context: ServiceContext<z.infer<S>>) => ServiceDefinition,
): Promise<void> {
  const v8Flags = serviceRuntimeV8Flags[name];
  if (v8Flags) setFlagsFromString(v8Flags);
  let config: z.infer<S>;
  let verifyPush: PushTokenVerifier | undefined;
  try {
    config = loadConfig(schema);
    verifyPush = pushTokenVerifierFor(config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${name}: ${error.message}\n`);
    process.exit(1);
  }
  const telemetry = setupTelemetry({
    serviceName: name,
    exporter: config.OTEL_TRACES_EXPORTER,
    metricsExporter: config.OTEL_METRICS_EXPORTER,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    projectId: config.GOOGLE_CLOUD_PROJECT,
    spanExportDelayMs: config.OTEL_BSP_SCHEDULE_DELAY,
    metricExportIntervalMs: config.OTEL_METRIC_EXPORT_INTERVAL,
    tracesPerSecond: config.OTEL_TRACES_PER_SECOND,
  });
  const context = createServiceContext(name, config);
  const definition = define(context);
  const app = createServiceApp(context, definition, verifyPush);
  context.logger.info(`push authentication ${verifyPush ? "on" : "off"}`);
  const runtime = { ...context, service: name };
  const pulls: PullConsumer[] = definition.consumers
    .filter((target) => subscriptionOf(target, name).delivery === "pull")
    .map((target) => startPullConsumer(context.pubsub, target, runtime));
  const stopBackground = definition.start?.();
  await serve(app, {
    port: config.PORT,
    host: config.HOST,
    logger: context.logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    handleSignals: true,
    onDrain: definition.drain,
    onShutdown: async () => {
      await Promise.allSettled([...pulls.map((pull) => pull.close()), stopBackground?.()]);
      await closeServiceContext(context);
      await telemetry.shutdown();
    },
  });
}
