// The local scheduler on its own (docker-compose's `scheduler` service): publishes the
// registry's scheduled topics to the Pub/Sub emulator at PUBSUB_EMULATOR_HOST until SIGTERM.
import { PubSub } from "@google-cloud/pubsub";
import { createLogger, Publisher } from "@syncstack/shared";
import { startTopicScheduler } from "./topic-scheduler.ts";

process.env.METADATA_SERVER_DETECTION = "none";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(`usage: node --conditions=source tools/scheduler/src/scheduler-cli.ts

Publishes the registry's scheduled topics (stats-tick, backup-requested) on their cron
schedules to the Pub/Sub emulator at PUBSUB_EMULATOR_HOST, project GOOGLE_CLOUD_PROJECT
(default demo-syncstack), until SIGINT or SIGTERM. ./syncstack up runs its own.
`);
  process.exit(0);
}

const projectId = process.env.GOOGLE_CLOUD_PROJECT ?? "demo-syncstack";
const pubsubHost = process.env.PUBSUB_EMULATOR_HOST;
if (!pubsubHost) {
  process.stderr.write("scheduler: PUBSUB_EMULATOR_HOST is not set\n");
  process.exit(2);
}
const pubsub = new PubSub({ projectId, apiEndpoint: pubsubHost, emulatorMode: true });
const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
const logger = createLogger({ projectId, fields: { component: "scheduler" } });
const scheduler = startTopicScheduler(publisher, logger);
for (const next of scheduler.next()) logger.info(`${next.name} next at ${next.at.toISOString()}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    scheduler.stop();
    void publisher
      .close()
      .then(() => pubsub.close())
      .finally(() => process.exit(0));
  });
}
