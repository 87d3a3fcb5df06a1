// Provisions running emulators from the registries, as `./syncstack up` does for its own
// (docker-compose's one-shot `provision` service): topics, dead-letter topics, push
// subscriptions to the given service URLs, the buckets and the uploads notification.
//   PUBSUB_EMULATOR_HOST=pubsub:8085 STORAGE_EMULATOR_HOST=http://storage:4443 \
//     node --conditions=source tools/local-stack/src/provision-cli.ts sync=http://sync:8081 ...
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import {
  defaultBucketNames,
  provisionBuckets,
  provisionTopology,
  type ServiceName,
  serviceNames,
  topics,
} from "@syncstack/shared";
import { waitForHttp } from "./wait-http.ts";

process.env.METADATA_SERVER_DETECTION = "none";

const usage = `usage: node --conditions=source tools/local-stack/src/provision-cli.ts [<service>=<base URL>]...

Provisions running emulators from the registries: topics, dead-letter topics, push
subscriptions to the given services (${serviceNames.join(", ")}), the buckets and the uploads
notification. The emulators are named by PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST and
optionally FIRESTORE_EMULATOR_HOST (waited for); the project by GOOGLE_CLOUD_PROJECT
(default demo-syncstack). ./syncstack up provisions its own stack.`;

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}

function fail(message: string): never {
  process.stderr.write(`provision: ${message}\n`);
  process.exit(2);
}

const projectId = process.env.GOOGLE_CLOUD_PROJECT ?? "demo-syncstack";
const pubsubHost =
  process.env.PUBSUB_EMULATOR_HOST ?? fail(`PUBSUB_EMULATOR_HOST is not set\n${usage}`);
const storageUrl =
  process.env.STORAGE_EMULATOR_HOST ?? fail(`STORAGE_EMULATOR_HOST is not set\n${usage}`);
const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;

const serviceUrls: Partial<Record<ServiceName, string>> = {};
for (const arg of process.argv.slice(2)) {
  const [service = "", url = ""] = arg.split(/=(.*)/s);
  if (!serviceNames.includes(service as ServiceName) || !URL.canParse(url)) {
    fail(`expected <${serviceNames.join("|")}>=<base URL>, got ${arg}`);
  }
  serviceUrls[service as ServiceName] = url;
}

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
