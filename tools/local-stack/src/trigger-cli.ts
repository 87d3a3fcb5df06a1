// `pnpm trigger <topic> [payload-json]`: publishes one message to the running local stack now,
// validated against the topic's schema (e.g. `pnpm trigger stats-tick`).
import { PubSub } from "@google-cloud/pubsub";
import { AppError, Publisher, topicByName, topics } from "@syncstack/shared";
import type { StackFile } from "./stack.ts";
import { readStackFile } from "./stack-file.ts";

// Local processes never reach for the cloud metadata server: nothing may leave loopback.
process.env.METADATA_SERVER_DETECTION = "none";

const usage = `usage: pnpm trigger <topic> [payload-json]\ntopics: ${topics.map((t) => t.name).join(", ")}`;

function fail(message: string): never {
  process.stderr.write(`trigger: ${message}\n`);
  process.exit(2);
}

const [topicName, json] = process.argv.slice(2);
if (!topicName) fail(usage);
let topic: ReturnType<typeof topicByName>;
try {
  topic = topicByName(topicName);
} catch (error) {
  fail((error as Error).message);
}

let payload: unknown;
if (json !== undefined) {
  try {
    payload = JSON.parse(json);
  } catch {
    fail(`the payload is not valid JSON: ${json}`);
  }
} else if (topic.manualPayload) {
  payload = topic.manualPayload(new Date());
} else {
  fail(`${topic.name} needs a payload, e.g. pnpm trigger ${topic.name} '{"...": "..."}'`);
}

let stack: StackFile;
try {
  stack = await readStackFile();
} catch (error) {
  fail((error as Error).message);
}

const pubsub = new PubSub({
  projectId: stack.projectId,
  apiEndpoint: stack.pubsub,
  emulatorMode: true,
});
try {
  const id = await new Publisher(pubsub, { deadlineMs: 10_000 }).publish(topic, payload as never);
  process.stdout.write(`published ${topic.name} message ${id}: ${JSON.stringify(payload)}\n`);
} catch (error) {
  fail(
    error instanceof AppError ? error.message : `publishing failed: ${(error as Error).message}`,
  );
} finally {
  await pubsub.close();
}
