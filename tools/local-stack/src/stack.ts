import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { startTopicScheduler } from "@syncstack/scheduler";
import {
  createLogger,
  defaultBucketNames,
  Publisher,
  type ServiceName,
  serviceNames,
  topics,
} from "@syncstack/shared";
import type { StackFile } from "@syncstack/shared/cli";
import {
  provisionBuckets,
  provisionTopology,
  serviceEnvironment,
  serviceNodeOptions,
} from "@syncstack/shared/provision";
import { checkAuthEmulatorPrerequisites, startAuthEmulator } from "./auth-emulator.ts";
import { startConsoleServer } from "./console-server.ts";
import {
  checkEmulatorPrerequisites,
  type RunningEmulator,
  startEmulator,
  stopAll,
} from "./emulators.ts";
import { assertPortFree } from "./free-port.ts";
import { notesAppOrigins, startNotesApp } from "./notes-app.ts";
import { repoRoot } from "./paths.ts";
import {
  groupStopped,
  type ManagedProcess,
  prefixLines,
  signalGroup,
  startService,
} from "./process-group.ts";

export type { StackFile };

/** Ports and options of a local stack; the defaults are docs/contract.md's. */
export interface StackOptions {
  projectId: string;
  ports: {
    pubsub: number;
    firestore: number;
    auth: number;
    storage: number;
    /** The demo notes app (apps/notes); without it the app is not started. */
    app?: number;
    /**
     * The telemetry collector (tools/telemetry-collector); with it the services export their
     * traces and metrics to it, without it they export nothing.
     */
    telemetry?: number;
    /** The ops console (tools/console-server, apps/console); without it the console is not started. */
    console?: number;
  } & Record<ServiceName, number>;
  /** Where stack.json (and kept Firestore data) go. */
  stateDir: string;
  /**
   * Keep Firestore and storage data across restarts (Firestore exports on stop and imports on
   * start); without it both start empty, so no object outlives the records that name it.
   */
  persist: boolean;
  firestoreHeapMiB: number;
  /** Extra environment for the four services (e.g. shorter sweep intervals for fault tests). */
  serviceEnv?: Record<string, string>;
  /** Where each part's output lines go; by default stdout, prefixed with the part's name. */
  output?: (part: string) => (line: string) => void;
}

/** One process of a running stack, for fault tests: signalled, paused, restarted. */
export interface StackPart {
  /** The process group now running it. */
  pid(): number;
  /** Sends a signal to its whole process group (SIGKILL to crash it, SIGSTOP to freeze it). */
  signal(signal: NodeJS.Signals): void;
  /** Starts it again (after a crash or a stop) with the same configuration; resolves when healthy. */
  restart(): Promise<void>;
}

/** An emulator of a running stack: frozen and thawed, never restarted (it would lose its state). */
export interface EmulatorPart extends Omit<StackPart, "restart"> {
  /** SIGSTOP, resolving once every thread has stopped: it answers nothing until thawed. */
  freeze(): Promise<void>;
  thaw(): void;
}

/** A running stack and how to stop everything it started. */
export interface RunningStack {
  file: StackFile;
  parts: Record<ServiceName, StackPart> & Record<"pubsub" | "firestore" | "auth", EmulatorPart>;
  stop(): Promise<void>;
}

const colors: Record<string, number> = {
  storage: 33,
  pubsub: 35,
  firestore: 33,
  auth: 35,
  app: 36,
  telemetry: 37,
  console: 36,
  sync: 32,
  files: 36,
  backup: 34,
  analytics: 31,
  stack: 37,
};
const width = Math.max(...Object.keys(colors).map((name) => name.length));
const prefixed = (name: string) => prefixLines(name, colors[name], { width });

/**
 * Starts the emulators (Pub/Sub, Firestore, Firebase Auth, storage) and the telemetry
 * collector, provisions the topology from the registry, starts the four services
 * and the scheduler, waits until each is ready and writes stack.json. On failure it stops
 * whatever it had started before rethrowing.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const problems = [...checkEmulatorPrerequisites(), ...checkAuthEmulatorPrerequisites()];
  if (problems.length > 0) throw new Error(`cannot start the stack:\n  ${problems.join("\n  ")}`);
  const { ports } = options;
  const output = options.output ?? prefixed;
  await Promise.all([
    assertPortFree(
      ports.pubsub,
      "Pub/Sub emulator",
      "stop whatever listens there or pass --pubsub-port",
    ),
    assertPortFree(
      ports.firestore,
      "Firestore emulator",
      "stop whatever listens there or pass --firestore-port",
    ),
    assertPortFree(ports.auth, "Auth emulator", "stop whatever listens there or pass --auth-port"),
    assertPortFree(
      ports.storage,
      "storage emulator",
      "stop whatever listens there or pass --storage-port",
    ),
    ...serviceNames.map((name) =>
      assertPortFree(
        ports[name],
        `${name} service`,
        `stop whatever listens there or pass --${name}-port`,
      ),
    ),
    ...(ports.app === undefined
      ? []
      : [assertPortFree(ports.app, "notes app", "stop whatever listens there or pass --app-port")]),
    ...(ports.telemetry === undefined
      ? []
      : [
          assertPortFree(
            ports.telemetry,
            "telemetry collector",
            "stop whatever listens there or pass --telemetry-port",
          ),
        ]),
    ...(ports.console === undefined
      ? []
      : [
          assertPortFree(
            ports.console,
            "console",
            "stop whatever listens there or pass --console-port",
          ),
        ]),
  ]);

  const emulators: RunningEmulator[] = [];
  const services: ManagedProcess[] = [];
  let stopScheduler = () => {};
  const log = output("stack");
  let storageEmulator: ManagedProcess | undefined;
  let collector: ManagedProcess | undefined;
  let app: ManagedProcess | undefined;
  let consoleServer: ManagedProcess | undefined;
  const stopEverything = async () => {
    stopScheduler();
    await Promise.all([app?.stop(5_000), consoleServer?.stop(5_000)]);
    // A part a fault test froze must run again to hear SIGTERM.
    for (const emulator of emulators) signalGroup(emulator.pid, "SIGCONT");
    await Promise.all(services.map((service) => service.stop(10_000)));
    await storageEmulator?.stop(5_000);
    // Last of the processes: the services flush their last spans and points to it as they stop.
    await collector?.stop(5_000);
    await stopAll(emulators);
  };

  try {
    // Each is kept as it starts, so that a failure of another stops it too.
    const track = (emulator: RunningEmulator) => {
      emulators.push(emulator);
      return emulator;
    };
    const [pubsubEmulator, firestoreEmulator, authEmulator] = await Promise.all([
      startEmulator("pubsub", { port: ports.pubsub, onLog: output("pubsub") }).then(track),
      startEmulator("firestore", {
        port: ports.firestore,
        heapMiB: options.firestoreHeapMiB,
        projectId: options.projectId,
        onLog: output("firestore"),
        ...(options.persist ? { dataDir: join(options.stateDir, "firestore-data") } : {}),
      }).then(track),
      startAuthEmulator({
        port: ports.auth,
        projectId: options.projectId,
        workDir: join(options.stateDir, "auth-emulator"),
        onLog: output("auth"),
      }).then(track),
    ]);
    const [pubsubHost, firestoreHost, authHost] = [
      pubsubEmulator.host,
      firestoreEmulator.host,
      authEmulator.host,
    ];
    const serviceUrls = Object.fromEntries(
      serviceNames.map((name) => [name, `http://127.0.0.1:${ports[name]}`]),
    ) as Record<ServiceName, string>;

    const pubsub = new PubSub({
      projectId: options.projectId,
      apiEndpoint: pubsubHost,
      emulatorMode: true,
    });
    await provisionTopology(pubsub, topics, { serviceUrls, nativePolicies: false });
    log(`provisioned ${topics.length} topics, their dead-letter topics and subscriptions`);

    const storageUrl = `http://127.0.0.1:${ports.storage}`;
    // Without --persist storage starts empty like Firestore, in a scratch directory (on disk
    // rather than in memory: uploads and backups can be large); kept data stays untouched.
    const storageDir = join(options.stateDir, options.persist ? "storage" : "storage-scratch");
    if (!options.persist) await rm(storageDir, { recursive: true, force: true });
    storageEmulator = startService("storage", {
      command: process.execPath,
      args: [
        "--conditions=source",
        join(repoRoot, "tools/storage-emulator/src/main.ts"),
        `--port=${ports.storage}`,
        `--data-dir=${storageDir}`,
        `--pubsub-host=${pubsubHost}`,
        "--quiet",
      ],
      env: { ...process.env, METADATA_SERVER_DETECTION: "none" },
      cwd: repoRoot,
      log: output("storage"),
    });
    await waitHealthy(storageEmulator, `${storageUrl}/`);
    const buckets = defaultBucketNames(options.projectId);
    await provisionBuckets(
      new Storage({ projectId: options.projectId, apiEndpoint: storageUrl }),
      options.projectId,
      buckets,
    );
    log(`provisioned buckets ${Object.values(buckets).join(", ")} and the uploads notification`);

    let telemetryUrl: string | undefined;
    if (ports.telemetry !== undefined) {
      telemetryUrl = `http://127.0.0.1:${ports.telemetry}`;
      collector = startService("telemetry", {
        command: process.execPath,
        args: [
          "--conditions=source",
          join(repoRoot, "tools/telemetry-collector/src/main.ts"),
          `--port=${ports.telemetry}`,
        ],
        env: { ...process.env },
        cwd: repoRoot,
        log: output("telemetry"),
      });
      await waitHealthy(collector, `${telemetryUrl}/healthz`);
    }

    const env = {
      ...process.env,
      GOOGLE_CLOUD_PROJECT: options.projectId,
      PUBSUB_EMULATOR_HOST: pubsubHost,
      FIRESTORE_EMULATOR_HOST: firestoreHost,
      STORAGE_EMULATOR_HOST: storageUrl,
      PUBLIC_BASE_URL: storageUrl,
      UPLOADS_BUCKET: buckets.uploads,
      THUMBNAILS_BUCKET: buckets.thumbnails,
      METADATA_SERVER_DETECTION: "none",
      // Loopback only, whatever HOST the shell has: the services accept unsigned tokens.
      HOST: "127.0.0.1",
      // Local apps sign in against the stack's Firebase Auth emulator, whose tokens are unsigned.
      FIREBASE_AUTH_EMULATOR_HOST: authHost,
      // Traces and metrics to the stack's collector, soon enough to look at: spans within a
      // second, metrics every 5 s (Cloud Run's configuration exports every minute).
      ...(telemetryUrl === undefined
        ? { OTEL_TRACES_EXPORTER: "none", OTEL_METRICS_EXPORTER: "none" }
        : {
            OTEL_TRACES_EXPORTER: "otlp",
            OTEL_METRICS_EXPORTER: "otlp",
            OTEL_EXPORTER_OTLP_ENDPOINT: telemetryUrl,
            OTEL_BSP_SCHEDULE_DELAY: "500",
            OTEL_METRIC_EXPORT_INTERVAL: "5000",
          }),
    };
    const launch = (name: ServiceName) =>
      startService(name, {
        command: process.execPath,
        args: [
          "--conditions=source",
          ...nodeOptionsOf(name),
          join(repoRoot, "services", name, "src", "main.ts"),
        ],
        env: {
          ...env,
          ...serviceEnvironment[name],
          // The demo app's pages call the sync service from their own origin.
          ...(name === "sync" && ports.app !== undefined
            ? { CORS_ORIGINS: notesAppOrigins(ports.app).join(",") }
            : {}),
          ...options.serviceEnv,
          PORT: String(ports[name]),
        },
        cwd: repoRoot,
        log: output(name),
      });
    services.push(...serviceNames.map(launch));
    await Promise.all(
      services.map((service, i) =>
        waitHealthy(service, `${serviceUrls[serviceNames[i] as ServiceName]}/healthz`),
      ),
    );
    const servicePart = (name: ServiceName, index: number): StackPart => ({
      pid: () => (services[index] as ManagedProcess).pid,
      signal: (signal) => signalGroup((services[index] as ManagedProcess).pid, signal),
      restart: async () => {
        await (services[index] as ManagedProcess).stop(10_000);
        services[index] = launch(name);
        await waitHealthy(services[index], `${serviceUrls[name]}/healthz`);
      },
    });
    const emulatorPart = (emulator: RunningEmulator): EmulatorPart => ({
      pid: () => emulator.pid,
      signal: (signal) => signalGroup(emulator.pid, signal),
      freeze: async () => {
        signalGroup(emulator.pid, "SIGSTOP");
        // Every thread of a busy JVM takes a moment to stop; until then it still answers.
        while (!groupStopped(emulator.pid)) await new Promise((resolve) => setTimeout(resolve, 10));
      },
      thaw: () => signalGroup(emulator.pid, "SIGCONT"),
    });
    const parts = {
      ...(Object.fromEntries(serviceNames.map((name, i) => [name, servicePart(name, i)])) as Record<
        ServiceName,
        StackPart
      >),
      pubsub: emulatorPart(pubsubEmulator),
      firestore: emulatorPart(firestoreEmulator),
      auth: emulatorPart(authEmulator),
    };

    const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
    const logger = createLogger({
      projectId: options.projectId,
      fields: { component: "scheduler" },
      write: log,
    });
    const scheduler = startTopicScheduler(publisher, logger);
    stopScheduler = () => scheduler.stop();

    let appUrl: string | undefined;
    if (ports.app !== undefined) {
      appUrl = `http://127.0.0.1:${ports.app}`;
      app = startNotesApp({
        port: ports.app,
        projectId: options.projectId,
        syncUrl: serviceUrls.sync,
        authHost,
        cacheDir: join(options.stateDir, "app-cache"),
        log: output("app"),
      });
      await waitHealthy(app, `${appUrl}/`);
    }
    let consoleUrl: string | undefined;
    if (ports.console !== undefined) {
      consoleUrl = `http://127.0.0.1:${ports.console}`;
      consoleServer = startConsoleServer({
        port: ports.console,
        env: { ...env, ...options.serviceEnv },
        serviceUrls,
        ...(telemetryUrl === undefined ? {} : { telemetryUrl }),
        cacheDir: join(options.stateDir, "console-cache"),
        log: output("console"),
      });
      await waitHealthy(consoleServer, `${consoleUrl}/healthz`);
    }

    const file: StackFile = {
      projectId: options.projectId,
      pubsub: pubsubHost,
      firestore: firestoreHost,
      auth: authHost,
      storage: storageUrl,
      services: serviceUrls,
      ...(appUrl === undefined ? {} : { app: appUrl }),
      ...(telemetryUrl === undefined ? {} : { telemetry: telemetryUrl }),
      buckets,
      ...(consoleUrl === undefined ? {} : { console: consoleUrl }),
    };
    await mkdir(options.stateDir, { recursive: true });
    const stackFile = join(options.stateDir, "stack.json");
    await writeFile(stackFile, `${JSON.stringify(file, null, 2)}\n`);
    for (const next of scheduler.next())
      log(`scheduler: ${next.name} next at ${next.at.toISOString()}`);

    return {
      file,
      parts,
      async stop() {
        await rm(stackFile, { force: true });
        await pubsub.close();
        await stopEverything();
      },
    };
  } catch (error) {
    await stopEverything();
    throw error;
  }
}

async function waitHealthy(
  service: ManagedProcess,
  url: string,
  timeoutMs = 30_000,
): Promise<void> {
  let exited: number | null | undefined;
  void service.exited.then((code) => {
    exited = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited !== undefined)
      throw new Error(`${service.name} exited with ${exited} before it was ready`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${service.name} was not healthy at ${url} within ${timeoutMs} ms`);
}

/** The service's V8 options from the registry, as command-line arguments. */
export function nodeOptionsOf(name: ServiceName): string[] {
  return serviceNodeOptions[name].split(" ").filter(Boolean);
}
