import { analyticsEnvSchema, analyticsService } from "@syncstack/analytics";
import { backupEnvSchema, backupService } from "@syncstack/backup";
import { filesEnvSchema, filesService } from "@syncstack/files";
import {
  type BaseConfig,
  type ServiceDefinition,
  type ServiceName,
  serviceNames,
  type TokenVerifier,
  tokenVerifierFor,
} from "@syncstack/shared";
import {
  type ServiceBuilder,
  type ServiceUnderTest as Started,
  startServiceUnderTest,
} from "@syncstack/shared/testing";
import { syncEnvSchema, syncService } from "@syncstack/sync";

/** One service of the system built in-process, as its main.ts builds it. */
export type ServiceUnderTest = Started<BaseConfig, ServiceDefinition>;

export interface ServicesOptions {
  /** Replaces the configured token verifier (production-mode tests inject Google's with a local key). */
  verifyToken?: TokenVerifier;
  /** Extra environment for every service (e.g. a small BODY_LIMIT_BYTES). */
  env?: Record<string, string>;
}

/** Infers a builder's config type from its schema. */
const builder = <C extends BaseConfig>(built: ServiceBuilder<C, ServiceDefinition>) => built;

/** How each service is built; a Record, so a new service name cannot be left out. */
function builders(
  verify: TokenVerifier | undefined,
): Record<ServiceName, ServiceBuilder<BaseConfig, ServiceDefinition>> {
  const verifier = (config: BaseConfig) => verify ?? tokenVerifierFor(config);
  return {
    sync: builder({
      name: "sync",
      envSchema: syncEnvSchema,
      define: (context) => syncService(context, verifier(context.config)),
    }),
    files: builder({
      name: "files",
      envSchema: filesEnvSchema,
      define: (context) => filesService(context, verifier(context.config)),
    }),
    backup: builder({
      name: "backup",
      envSchema: backupEnvSchema,
      define: (context) => backupService(context, verifier(context.config)),
    }),
    analytics: builder({
      name: "analytics",
      envSchema: analyticsEnvSchema,
      define: (context) => analyticsService(context, verifier(context.config)),
    }),
  };
}

/**
 * Starts every service of the system in-process against the test runner's emulators, as
 * runService does (background work included), each on a free port.
 */
export async function startServices(
  projectId: string,
  options: ServicesOptions = {},
): Promise<Record<ServiceName, ServiceUnderTest>> {
  const build = builders(options.verifyToken);
  const started = await Promise.all(
    serviceNames.map((name) =>
      startServiceUnderTest(build[name], { projectId, env: options.env, background: true }),
    ),
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
