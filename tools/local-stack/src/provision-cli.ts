// Provisions running emulators from the registries, as `./syncstack up` does for its own
// (docker-compose's one-shot `provision` service): topics, dead-letter topics, push
// subscriptions to the given service URLs, the buckets and the uploads notification.
//   PUBSUB_EMULATOR_HOST=pubsub:8085 STORAGE_EMULATOR_HOST=http://storage:4443 \
//     node --conditions=source tools/local-stack/src/provision-cli.ts sync=http://sync:8081 ...
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { defaultBucketNames, type ServiceName, serviceNames, topics } from "@syncstack/shared";
import { findTarget, stackEnvironment, type Target } from "@syncstack/shared/cli";
import { provisionBuckets, provisionTopology } from "@syncstack/shared/provision";
import { waitForHttp } from "./wait-http.ts";

process.env.METADATA_SERVER_DETECTION = "none";

const usage = `usage: node --conditions=source tools/local-stack/src/provision-cli.ts [<service>=<base URL>]...

Provisions running emulators from the registries: topics, dead-letter topics, push
subscriptions to the given services (${serviceNames.join(", ")}), the buckets and the uploads
notification. The emulators are named by PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST and
optionally FIRESTORE_EMULATOR_HOST (waited for), the project by GOOGLE_CLOUD_PROJECT (default
demo-syncstack); without them, the running local stack's (.syncstack/stack.json, and its
services when none is given). ./syncstack up provisions its own stack; a Google Cloud project
is provisioned by ./syncstack cloud.`;

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`provision: ${message}\n`);
  process.exit(2);
}

// The emulators named in the environment (docker-compose), else the running local stack's.
let target: Target;
try {
  target = await findTarget({ project: undefined, uses: ["pubsub", "storage"], projectFlag: null });
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`);
}
const stack = target.kind === "stack" ? target.stack : undefined;
const env = stack ? stackEnvironment(stack) : process.env;
const projectId = env.GOOGLE_CLOUD_PROJECT ?? "demo-syncstack";
const pubsubHost = env.PUBSUB_EMULATOR_HOST ?? fail(`PUBSUB_EMULATOR_HOST is not set\n${usage}`);
const storageUrl = env.STORAGE_EMULATOR_HOST ?? fail(`STORAGE_EMULATOR_HOST is not set\n${usage}`);
const firestoreHost = env.FIRESTORE_EMULATOR_HOST;

const serviceUrls: Partial<Record<ServiceName, string>> = {};
for (const arg of process.argv.slice(2)) {
  const [service = "", url = ""] = arg.split(/=(.*)/s);
  if (!serviceNames.includes(service as ServiceName) || !URL.canParse(url)) {
    fail(`expected <${serviceNames.join("|")}>=<base URL>, got ${arg}`);
  }
  serviceUrls[service as ServiceName] = url;
}
if (stack && Object.keys(serviceUrls).length === 0) Object.assign(serviceUrls, stack.services);

try {
  await Promise.all([
    waitForHttp("the Pub/Sub emulator", `http://${pubsubHost}/`, { body: "Ok" }),
    waitForHttp("the storage emulator", `${storageUrl}/`),
    ...(firestoreHost
      ? [waitForHttp("the Firestore emulator", `http://${firestoreHost}/`, { body: "Ok" })]
      : []),
  ]);
  const pubsub = new PubSub({ projectId, apiEndpoint: pubsubHost, emulatorMode: true });
  await provisionTopology(pubsub, topics, { serviceUrls, nativePolicies: false });
  const buckets = defaultBucketNames(projectId);
  await provisionBuckets(new Storage({ projectId, apiEndpoint: storageUrl }), projectId, buckets);
  await pubsub.close();
  process.stdout.write(
    `provisioned ${topics.length} topics with dead letters, push subscriptions to ${Object.keys(serviceUrls).join(", ") || "no service"}, buckets ${Object.values(buckets).join(", ")}\n`,
  );
} catch (error) {
  process.stderr.write(`provision: ${(error as Error).message}\n`);
  process.exit(1);
}
