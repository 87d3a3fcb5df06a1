import { z } from "zod";

const hostPort = z.string().regex(/^[\w.-]+:\d{1,5}$/, "must be host:port, e.g. 127.0.0.1:8085");

/** Environment every service reads; each service extends it with its own variables. */
export const baseEnvSchema = z.object({
  GOOGLE_CLOUD_PROJECT: z
    .string()
    .regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "must be a Google Cloud project id")
    .default("demo-syncstack"),
  PORT: z.coerce.number().int().min(1).max(65535),
  /**
   * The address to listen on. Loopback by default: with FIREBASE_AUTH_EMULATOR_HOST set a
   * service accepts unsigned tokens, admin claims included, so only a container (the image,
   * docker-compose) sets 0.0.0.0.
   */
  HOST: z.string().min(1).default("127.0.0.1"),
  PUBSUB_EMULATOR_HOST: hostPort.optional(),
  FIRESTORE_EMULATOR_HOST: hostPort.optional(),
  STORAGE_EMULATOR_HOST: z.url().optional(),
  LOG_LEVEL: z.enum(["DEBUG", "INFO", "WARNING", "ERROR"]).default("INFO"),
  /** `gcp`: Cloud Trace through its OTLP endpoint, as the service's account. */
  OTEL_TRACES_EXPORTER: z.enum(["none", "console", "otlp", "gcp"]).default("none"),
  /** `gcp`: Cloud Monitoring through the same OTLP endpoint; off unless set. */
  OTEL_METRICS_EXPORTER: z.enum(["none", "otlp", "gcp"]).default("none"),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /**
   * New traces an instance records per second at most (each whole, across services); past it
   * traces keep their ids but are not recorded. 0 records every one.
   */
  OTEL_TRACES_PER_SECOND: z.coerce.number().int().min(0).max(100_000).default(100),
  /** Milliseconds finished spans wait to be exported together. */
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(10).max(60_000).default(5_000),
  /** Milliseconds between metric exports (Cloud Monitoring takes a point per 5 s at most). */
  OTEL_METRIC_EXPORT_INTERVAL: z.coerce.number().int().min(1_000).max(600_000).default(60_000),
  /** Deadline for a single-document call to Firestore, Pub/Sub or Storage. */
  DEADLINE_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** How long SIGTERM waits for in-flight requests (Cloud Run gives 10 s). */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(60_000).default(8_000),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1_024).default(1_048_576),
  /**
   * Set (as the Firebase Admin SDK reads it) when ID tokens come from the Firebase Auth
   * emulator: unsigned tokens are then accepted. Refused on Cloud Run.
   */
  FIREBASE_AUTH_EMULATOR_HOST: z.string().min(1).optional(),
  /** Set by Cloud Run. */
  K_SERVICE: z.string().optional(),
  /** Require Google-signed OIDC tokens on push endpoints; unset: on when K_SERVICE is set. */
  PUSH_AUTH: z.enum(["on", "off"]).optional(),
  /** The audience push tokens carry; unset: the push endpoint's URL, Pub/Sub's default. */
  PUSH_AUDIENCE: z.string().min(1).optional(),
  /** The service account push subscriptions sign their tokens as (required with PUSH_AUTH). */
  PUSH_SERVICE_ACCOUNT: z.email().optional(),
});

export type BaseConfig = z.infer<typeof baseEnvSchema>;

/** Thrown when the environment does not parse; its message names every bad variable. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment once against a schema; fails with a message naming each bad variable. */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = schema.safeParse(env, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join(".") || "(environment)";
    const raw = env[String(issue.path[0])];
    if (raw === undefined || raw === "") return `${name} is required but not set`;
    return `${name}=${JSON.stringify(raw)} is invalid: ${issue.message}`;
  });
  throw new ConfigError(`Invalid configuration:\n  ${problems.join("\n  ")}`);
}

/** A service's default port, used when PORT is not set (Cloud Run always sets it). */
export function withDefaultPort<S extends z.ZodObject>(schema: S, port: number) {
  return z.preprocess(
    (env) => ({
      ...(env as Record<string, unknown>),
      PORT: (env as Record<string, unknown>).PORT ?? String(port),
    }),
    schema,
  );
}
