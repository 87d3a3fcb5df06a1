import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import type { Express } from "express";
import { type BaseConfig, baseEnvSchema, loadConfig } from "../config.ts";
import { createLogger, type LogFields, type Logger } from "../logger.ts";

/** Emulator hosts the test runner started; a test outside the runner fails with a clear message. */
export function emulatorHosts(): { pubsub: string; firestore: string } {
  const pubsub = process.env.PUBSUB_EMULATOR_HOST;
  const firestore = process.env.FIRESTORE_EMULATOR_HOST;
  if (!pubsub || !firestore || process.env.SYNCSTACK_TEST !== "1") {
    throw new Error("emulator tests run under the test runner: ./syncstack test (or pnpm test)");
  }
  return { pubsub, firestore };
}

/** A fresh project id, so test files running at once never share emulator state. */
export function testProjectId(): string {
  return `demo-t${randomBytes(5).toString("hex")}`;
}

/** The environment of a service under test against the runner's emulators. */
export function testEnv(
  projectId: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  const hosts = emulatorHosts();
  return {
    GOOGLE_CLOUD_PROJECT: projectId,
    PORT: "8080",
    PUBSUB_EMULATOR_HOST: hosts.pubsub,
    FIRESTORE_EMULATOR_HOST: hosts.firestore,
    LOG_LEVEL: "ERROR",
    DEADLINE_MS: "10000",
    ...extra,
  };
}

/** Base config for a service under test against the runner's emulators. */
export function testConfig(projectId: string, extra: Record<string, string> = {}): BaseConfig {
  return loadConfig(baseEnvSchema, testEnv(projectId, extra));
}

/** An unsigned Firebase ID token as the Auth emulator issues it. */
export function emulatorIdToken(
  projectId: string,
  uid: string,
  overrides: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1_000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const payload = {
    iss: `https://securetoken.google.com/${projectId}`,
    aud: projectId,
    auth_time: now,
    user_id: uid,
    sub: uid,
    iat: now,
    exp: now + 3_600,
    firebase: { identities: {}, sign_in_provider: "custom" },
    ...overrides,
  };
  return `${encode({ alg: "none", typ: "JWT" })}.${encode(payload)}.`;
}

/** A logger that keeps entries in memory for assertions. */
export function memoryLogger(projectId: string): { logger: Logger; entries: LogFields[] } {
  const entries: LogFields[] = [];
  const logger = createLogger({
    projectId,
    level: "DEBUG",
    write: (line) => entries.push(JSON.parse(line) as LogFields),
  });
  return { logger, entries };
}

/** Deletes every document of the project in the Firestore emulator (the runner's by default). */
export async function resetFirestore(
  projectId: string,
  firestore: string = emulatorHosts().firestore,
): Promise<void> {
  const response = await fetch(
    `http://${firestore}/emulator/v1/projects/${projectId}/databases/(default)/documents`,
    { method: "DELETE" },
  );
  if (!response.ok) throw new Error(`resetting Firestore failed: ${response.status}`);
}

/** Listens on a free loopback port; returns the base URL and a close function. */
export async function listen(
  app: Express,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = app.listen(0, "127.0.0.1");
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
