// `./syncstack dead-letters list|replay|drop`: shows the messages consumers gave up on, kept by
// the `<topic>-dead-letter-sub` subscriptions of the running stack, replays or drops chosen ones.
import { PubSub } from "@google-cloud/pubsub";
import { Publisher, topics } from "@syncstack/shared";
import { parseCommandLine, readStackFile, usageError } from "@syncstack/shared/cli";
import { type DeadLetter, DeadLetterStore } from "./dead-letter-store.ts";

// Local processes never reach for the cloud metadata server: nothing may leave loopback.
process.env.METADATA_SERVER_DETECTION = "none";

const usage = `usage: ./syncstack dead-letters list [--topic <topic>]... [--limit <n>] [--json]
       ./syncstack dead-letters replay <topic/id>...
       ./syncstack dead-letters replay --topic <topic> --all
       ./syncstack dead-letters drop <topic/id>...

  list     prints the dead letters, oldest first; they stay where they are
  replay   republishes the chosen dead letters to their topic (original attributes and
           ordering key, for the subscription that failed them) and removes them
  drop     removes the chosen dead letters for good, unprocessed
The running local stack is found through .syncstack/stack.json ($SYNCSTACK_STATE_DIR).
topics: ${topics.map((t) => t.name).join(", ")}`;

const fail: (message: string) => never = usageError("dead-letters", usage);

/** What an operator sees of a dead letter. */
export function describeDeadLetter(letter: DeadLetter): string {
  const payload = letter.data.toString("utf8");
  const attributes = Object.entries(letter.attributes)
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
  return [
    `${letter.id}  ${letter.publishTime.toISOString()}`,
    `  reason: ${letter.reason}`,
    ...(letter.sourceSubscription ? [`  from: ${letter.sourceSubscription}`] : []),
    `  attributes: ${attributes || "(none)"}`,
    `  payload: ${JSON.stringify(payload.length > 200 ? `${payload.slice(0, 200)}...` : payload)} (${letter.data.length} bytes)`,
  ].join("\n");
}

const { values, positionals } = parseCommandLine(
  {
    allowPositionals: true,
    options: {
      topic: { type: "string", multiple: true },
      limit: { type: "string" },
      json: { type: "boolean" },
      all: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  },
  usage,
  fail,
);
const [command, ...ids] = positionals;
const unknownTopic = values.topic?.find((name) => !topics.some((topic) => topic.name === name));
if (unknownTopic !== undefined) fail(`unknown topic ${unknownTopic}`);
const chosenTopics = values.topic;
const limit = values.limit === undefined ? undefined : Number(values.limit);
if (limit !== undefined && !(Number.isInteger(limit) && limit > 0))
  fail(`--limit must be a positive integer, not ${values.limit}`);
if (command === "drop" && (ids.length === 0 || values.all))
  fail("drop takes the ids of the dead letters to remove (no --all)");
if (command === "replay" && ids.length > 0 === Boolean(values.all))
  fail("replay takes either ids or --topic <topic> --all");
if (command === "replay" && values.all && !chosenTopics) fail("replay --all needs --topic");
const badId = ids.find(
  (id) => !/^[^/]+\/[^/]+$/.test(id) || !topics.some((t) => id.startsWith(`${t.name}/`)),
);
if (badId !== undefined) fail(`${badId} is not a dead letter id (<topic>/<id>, as list prints it)`);
if (command !== "list" && command !== "replay" && command !== "drop")
  fail(command ? `unknown command ${command}` : "a command is needed");

let stack: Awaited<ReturnType<typeof readStackFile>>;
try {
  stack = await readStackFile();
} catch (error) {
  // Dead letters are the local stack's: there is no real project to fall back to.
  process.stderr.write(`dead-letters: ${(error as Error).message}\n`);
  process.exit(2);
}
const pubsub = new PubSub({
  projectId: stack.projectId,
  apiEndpoint: stack.pubsub,
  emulatorMode: true,
});
const store = new DeadLetterStore(pubsub, topics);
const publisher = new Publisher(pubsub, { deadlineMs: 10_000 });
let exitCode = 0;
try {
  if (command === "list") {
    const letters = await store.list({ topics: chosenTopics, limit });
    for (const letter of letters) {
      process.stdout.write(
        values.json
          ? `${JSON.stringify({ ...letter, data: letter.data.toString("base64") })}\n`
          : `${describeDeadLetter(letter)}\n`,
      );
    }
    if (!values.json) process.stdout.write(`${letters.length} dead letter(s)\n`);
  } else if (command === "drop") {
    const wanted = new Set(ids);
    const dropped = await store.drop(
      (letter) => wanted.has(letter.id),
      [...new Set(ids.map((id) => id.split("/")[0] ?? ""))],
    );
    for (const letter of dropped) process.stdout.write(`dropped ${letter.id}\n`);
    const missing = ids.filter((id) => !dropped.some((letter) => letter.id === id));
    if (missing.length > 0) {
      process.stderr.write(`dead-letters: not found: ${missing.join(", ")}\n`);
      exitCode = 1;
    }
  } else {
    const wanted = new Set(ids);
    const replayed = await store.replay(
      publisher,
      (letter) => values.all === true || wanted.has(letter.id),
      chosenTopics ?? [...new Set(ids.map((id) => id.split("/")[0] ?? ""))],
    );
    for (const letter of replayed)
      process.stdout.write(`replayed ${letter.id} to ${letter.topic}\n`);
    const missing = ids.filter((id) => !replayed.some((letter) => letter.id === id));
    if (missing.length > 0) {
      process.stderr.write(`dead-letters: not found: ${missing.join(", ")}\n`);
      exitCode = 1;
    }
  }
} catch (error) {
  process.stderr.write(`dead-letters: ${(error as Error).message}\n`);
  exitCode = 1;
} finally {
  await publisher.close();
  await store.close();
  await pubsub.close();
}
process.exit(exitCode);
