import { analyticsEnvSchema, analyticsService } from "@syncstack/analytics";
import { backupEnvSchema, backupService } from "@syncstack/backup";
import { filesEnvSchema, filesService } from "@syncstack/files";
import {
  closeServiceContext,
  createServiceApp,
  createServiceContext,
  defaultBucketNames,
  loadConfig,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceName,
  serviceNames,
  type TokenVerifier,
  tokenVerifierFor,
} from "@syncstack/shared";
import { listen, memoryLogger, testEnv } from "@syncstack/shared/testing";
import { syncEnvSchema, syncService } from "@syncstack/sync";

/** One service built in-process, as its main.ts builds it, listening on a free port. */
export interface ServiceUnderTest {
  name: ServiceName;
  context: ServiceContext;
  app: ReturnType<typeof createServiceApp>;
  url: string;
  close(): Promise<void>;
}

export interface ServicesOptions {
  /** Replaces the configured token verifier (production-mode tests inject Google's with a local key). */
  verifyToken?: TokenVerifier;
  /** Extra environment for every service (e.g. a small BODY_LIMIT_BYTES). */
  env?: Record<string, string>;
}

type Built = { context: ServiceContext; definition: ServiceDefinition };

/** How each service is built; a Record, so a new service name cannot be left out. */
const builders: Record<
  ServiceName,
  (env: Record<string, string>, verify: TokenVerifier | undefined) => Built
> = {
  sync: (env, verify) => {
    const context = createServiceContext("sync", loadConfig(syncEnvSchema, env), quiet(env));
    return {
      context,
      definition: syncService(context, verify ?? tokenVerifierFor(context.config)),
    };
  },
  files: (env) => {
    const context = createServiceContext("files", loadConfig(filesEnvSchema, env), quiet(env));
    return { context, definition: filesService(context) };
  },
  backup: (env, verify) => {
    const context = createServiceContext("backup", loadConfig(backupEnvSchema, env), quiet(env));
    return {
      context,
      definition: backupService(context, verify ?? tokenVerifierFor(context.config)),
    };
  },
  analytics: (env, verify) => {
    const config = loadConfig(analyticsEnvSchema, env);
    const context = createServiceContext("analytics", config, quiet(env));
    return {
      context,
      definition: analyticsService(context, verify ?? tokenVerifierFor(context.config)),
    };
  },
};

function quiet(env: Record<string, string>) {
  return { logger: memoryLogger(env.GOOGLE_CLOUD_PROJECT ?? "").logger };
}

/**
 * Starts every service of the system in-process against the test runner's emulators, as
 * runService does (background work included), each on a free port.
 */
export async function startServices(
  projectId: string,
  options: ServicesOptions = {},
): Promise<Record<ServiceName, ServiceUnderTest>> {
  const buckets = defaultBucketNames(projectId);
  const env = testEnv(projectId, {
    FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
    STORAGE_EMULATOR_HOST: process.env.STORAGE_EMULATOR_HOST ?? "",
    UPLOADS_BUCKET: buckets.uploads,
    THUMBNAILS_BUCKET: buckets.thumbnails,
    ...options.env,
  });
  const started = await Promise.all(
    serviceNames.map(async (name): Promise<ServiceUnderTest> => {
      const { context, definition } = builders[name](env, options.verifyToken);
      const app = createServiceApp(context, definition);
      const server = await listen(app);
      const stopBackground = definition.start?.();
      return {
        name,
        context,
        app,
        url: server.url,
        close: async () => {
          await server.close();
          await stopBackground?.();
          await closeServiceContext(context);
        },
      };
    }),
  );
  return Object.fromEntries(started.map((service) => [service.name, service])) as Record<
    ServiceName,
    ServiceUnderTest
  >;
}

/** Stops every service startServices started. */
export async function closeServices(
  services: Record<ServiceName, ServiceUnderTest>,
): Promise<void> {
  await Promise.all(Object.values(services).map((service) => service.close()));
}
