import type { Express } from "express";
import type { z } from "zod";
import type { Clients } from "../clients.ts";
import { type BaseConfig, loadConfig } from "../config.ts";
import type { LogFields } from "../logger.ts";
import { provisionTopology } from "../pubsub/provision.ts";
import type { ServiceName } from "../registry/services.ts";
import {
  closeServiceContext,
  createServiceApp,
  createServiceContext,
  type ServiceContext,
  type ServiceDefinition,
} from "../service.ts";
import { defaultBucketNames, provisionBuckets } from "../storage-topology.ts";
import { subscriptionName, type TopicSpec } from "../topics/topic.ts";
import { type Collector, collectMessages } from "./collect.ts";
import {
  emulatorIdToken,
  listen,
  memoryLogger,
  resetFirestore,
  testEnv,
  testProjectId,
} from "./emulator-env.ts";

/** How a service is built, as its main.ts builds it: its name, env schema and definition. */
export interface ServiceBuilder<C extends BaseConfig, D extends ServiceDefinition> {
  name: ServiceName;
  envSchema: z.ZodType<C>;
  /** A method, so that a builder of any service's config is a builder of BaseConfig's. */
  define(context: ServiceContext<C>): D;
}

export interface ServiceUnderTestOptions<D extends ServiceDefinition = ServiceDefinition> {
  /** The emulator project; a fresh one when absent. Instances of one test share it. */
  projectId?: string;
  /** Environment on top of the test defaults (emulator hosts, the project's buckets). */
  env?: Record<string, string>;
  /** Clients to use instead of the configured ones (e.g. a Pub/Sub client that is down). */
  clients?: Partial<Clients>;
  /** Topics to create, with this service's push subscriptions pointing at it. */
  topics?: readonly TopicSpec[];
  /** Create the topics without this service's push subscriptions (an instance that gets no pushes). */
  unsubscribed?: boolean;
  /** Create the project's buckets. */
  buckets?: boolean;
  /** Topics whose published messages the test wants to see (`collected(topic)`). */
  collect?: readonly TopicSpec[];
  /** Start the definition's background work (sweepers) as runService does. */
  background?: boolean;
  /** The uid whose emulator token requests carry unless they say otherwise. */
  user?: string;
  /** Work to finish before the server closes (e.g. fold what a folder holds). */
  beforeClose?: (definition: D) => Promise<void>;
}

/** A request to the service under test: a JSON body, and the caller's emulator token. */
export interface TestRequest {
  method?: string;
  /** Sent as is when a string, as JSON otherwise. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Whose token to send: the harness's `user` when absent, none when null. */
  uid?: string | null;
  /** Extra claims of the token (e.g. `admin: true`). */
  claims?: Record<string, unknown>;
}

/** One service built in-process against the test runner's emulators, listening on a free port. */
export interface ServiceUnderTest<C extends BaseConfig, D extends ServiceDefinition> {
  name: ServiceName;
  projectId: string;
  context: ServiceContext<C>;
  definition: D;
  app: Express;
  url: string;
  /** What the service logged, at every level. */
  logs: LogFields[];
  /** An emulator ID token for `uid`. */
  token(uid: string, claims?: Record<string, unknown>): string;
  request(path: string, init?: TestRequest): Promise<Response>;
  post(path: string, body: unknown, init?: TestRequest): Promise<Response>;
  get(path: string, init?: TestRequest): Promise<Response>;
  /** POSTs a push envelope as Pub/Sub does (a redelivery reuses the message id); the status. */
  push(topic: TopicSpec, payload: unknown, messageId?: string): Promise<number>;
  /** The collector of a topic named in `collect`. */
  collected(topic: TopicSpec): Collector;
  /** Deletes every document of the project. */
  resetFirestore(): Promise<void>;
  close(): Promise<void>;
}

let messages = 0;

/**
 * Builds the service in-process with the test runner's emulators (a memory logger, emulator
 * tokens accepted), listens on a free port, provisions what `options` ask for, and gives a
 * test the calls it makes: requests with a token, push envelopes, published messages, close.
 */
export async function startServiceUnderTest<C extends BaseConfig, D extends ServiceDefinition>(
  builder: ServiceBuilder<C, D>,
  options: ServiceUnderTestOptions<D> = {},
): Promise<ServiceUnderTest<C, D>> {
  const projectId = options.projectId ?? testProjectId();
  const buckets = defaultBucketNames(projectId);
  const config = loadConfig(
    builder.envSchema,
    testEnv(projectId, {
      FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
      STORAGE_EMULATOR_HOST: process.env.STORAGE_EMULATOR_HOST ?? "",
      UPLOADS_BUCKET: buckets.uploads,
      THUMBNAILS_BUCKET: buckets.thumbnails,
      ...options.env,
    }),
  );
  const { logger, entries } = memoryLogger(projectId);
  const context = createServiceContext(builder.name, config, { logger, ...options.clients });
  const definition = builder.define(context);
  const app = createServiceApp(context, definition);
  const server = await listen(app);
  if (options.topics) {
    await provisionTopology(context.pubsub, options.topics, {
      serviceUrls: options.unsubscribed ? {} : { [builder.name]: server.url },
      nativePolicies: false,
    });
  }
  if (options.buckets) await provisionBuckets(context.storage, projectId, buckets);
  const collectors = new Map<string, Collector>();
  for (const topic of options.collect ?? []) {
    const name = `collect-${topic.name}-${++messages}`;
    collectors.set(topic.name, await collectMessages(context.pubsub, topic.name, name));
  }
  const stopBackground = options.background ? definition.start?.() : undefined;
  const token = (uid: string, claims: Record<string, unknown> = {}) =>
    emulatorIdToken(projectId, uid, claims);
  const request = (path: string, init: TestRequest = {}) => {
    const uid = init.uid === undefined ? options.user : init.uid;
    const body = init.body;
    return fetch(`${server.url}${path}`, {
      method: init.method ?? (body === undefined ? "GET" : "POST"),
      headers: {
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...(uid == null ? {} : { authorization: `Bearer ${token(uid, init.claims)}` }),
        ...init.headers,
      },
      body: body === undefined || typeof body === "string" ? body : JSON.stringify(body),
    });
  };
  return {
    name: builder.name,
    projectId,
    context,
    definition,
    app,
    url: server.url,
    logs: entries,
    token,
    request,
    post: (path, body, init = {}) => request(path, { ...init, body, method: "POST" }),
    get: (path, init = {}) => request(path, { ...init, method: "GET" }),
    push: async (topic, payload, messageId = `direct-${++messages}`) => {
      const response = await fetch(`${server.url}/pubsub/${topic.name}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          subscription: `projects/${projectId}/subscriptions/${subscriptionName(topic, builder.name)}`,
          message: {
            data: Buffer.from(JSON.stringify(payload)).toString("base64"),
            attributes: { schema_version: String(topic.schemaVersion) },
            messageId,
            publishTime: new Date().toISOString(),
          },
        }),
      });
      return response.status;
    },
    collected: (topic) => {
      const collector = collectors.get(topic.name);
      if (!collector) throw new Error(`${topic.name} is not among the collected topics`);
      return collector;
    },
    resetFirestore: () => resetFirestore(projectId),
    close: async () => {
      await Promise.all([...collectors.values()].map((collector) => collector.close()));
      await options.beforeClose?.(definition);
      await definition.drain?.();
      await server.close();
      await stopBackground?.();
      await closeServiceContext(context);
    },
  };
}
