// `./syncstack trigger <topic> [payload-json]`: publishes one message to the running local stack
// now, validated against the topic's schema (e.g. `./syncstack trigger stats-tick`).
import { PubSub } from "@google-cloud/pubsub";
import { AppError, Publisher, topicByName, topics } from "@syncstack/shared";
import { parseCommandLine, readStackFile, type StackFile, usageError } from "@syncstack/shared/cli";

// Local processes never reach for the cloud metadata server: nothing may leave loopback.
process.env.METADATA_SERVER_DETECTION = "none";

const usage = `usage: ./syncstack trigger <topic> [payload-json]
       (./syncstack backup requests a backup and can follow it: ./syncstack backup --help)

Publishes one message to <topic> of the running local stack (found through
.syncstack/stack.json, or $SYNCSTACK_STATE_DIR/stack.json), validated against the topic's
schema. Without a payload, topics that have a manual payload (stats-tick, backup-requested)
get one for now.

  -h, --help   this text
topics: ${topics.map((t) => t.name).join(", ")}`;

const fail: (message: string) => never = usageError("trigger", usage);
const { positionals } = parseCommandLine(
  { allowPositionals: true, options: { help: { type: "boolean", short: "h" } } },
  usage,
  fail,
);
const [topicName, json, ...extra] = positionals;
if (!topicName) fail("a topic is needed");
if (extra.length > 0) fail(`unexpected argument ${extra[0]}`);
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
  fail(`${topic.name} needs a payload, e.g. ./syncstack trigger ${topic.name} '{"...": "..."}'`);
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
