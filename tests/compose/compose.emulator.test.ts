import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { PubSub } from "@google-cloud/pubsub";
import { Storage } from "@google-cloud/storage";
import { repoRoot } from "@syncstack/local-stack";
import {
  deadLetterTopicName,
  defaultBucketNames,
  fileUploaded,
  serviceNames,
  subscriptionName,
  topics,
} from "@syncstack/shared";
import { serviceEnvironment, serviceNodeOptions } from "@syncstack/shared/provision";
import { emulatorHosts, testProjectId } from "@syncstack/shared/testing";

const exec = promisify(execFile);
const composeFile = join(repoRoot, "docker-compose.yml");

/** `docker-compose config` output: CI installs Debian's docker-compose (.ci/run); no engine needed. */
async function composeConfig(...args: string[]): Promise<string> {
  try {
    return (await exec("docker-compose", ["-f", composeFile, "config", ...args])).stdout;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      assert.fail(
        "docker-compose is not installed: apt-get install docker-compose (.ci/run does in CI)",
      );
    }
    throw error;
  }
}

/** The normalized configuration of one compose service (the lines under its name). */
function section(config: string, name: string): string {
  const match = new RegExp(`^ {2}${name}:\\n((?: {4}.*\\n)+)`, "m").exec(config);
  assert.ok(match?.[1], `compose has no service ${name}`);
  return match[1];
}

test("docker-compose.yml is valid and wires the emulators, provisioning, services and scheduler", async () => {
  await composeConfig("-q");
  const services = (await composeConfig("--services")).trim().split("\n").sort();
  const expected = ["pubsub", "firestore", "storage", "provision", ...serviceNames, "scheduler"];
  assert.deepEqual(services, expected.sort());
  const config = await composeConfig();
  const provision = section(config, "provision");
  for (const service of serviceNames) {
    const own = section(config, service);
    assert.match(own, new RegExp(`SERVICE: ${service}\\n`), `${service} builds its own image`);
    const nodeOptions = /NODE_OPTIONS: (.*)\n/.exec(own)?.[1]?.replace(/^'|'$/g, "") ?? "";
    assert.equal(nodeOptions, serviceNodeOptions[service], `${service} builds with its V8 options`);
    for (const [name, value] of Object.entries(serviceEnvironment[service])) {
      assert.match(own, new RegExp(`${name}: '?${value}'?\\n`), `${service} runs with ${name}`);
    }
    assert.match(own, /target: service\n/);
    assert.match(
      own,
      /condition: service_completed_successfully/,
      `${service} waits for provision`,
    );
    const port = /PORT: '(\d+)'/.exec(own)?.[1];
    assert.ok(port, `${service} sets PORT`);
    assert.match(own, new RegExp(`published: ${port}\\n\\s+target: ${port}\\n`));
    // Push subscriptions point at the service's hostname and port.
    assert.ok(
      provision.includes(`- ${service}=http://${service}:${port}\n`),
      `provision ${service}`,
    );
  }
  for (const emulator of ["pubsub", "firestore"]) {
    assert.match(
      section(config, emulator),
      /image: gcr\.io\/google\.com\/cloudsdktool\/google-cloud-cli:emulators/,
    );
  }
});

test("the provisioning step creates the registry's topology on running emulators", async () => {
  const projectId = testProjectId();
  const hosts = emulatorHosts();
  const storageUrl = process.env.STORAGE_EMULATOR_HOST as string;
  await exec(
    process.execPath,
    [
      "--conditions=source",
      join(repoRoot, "tools/local-stack/src/provision-cli.ts"),
      "files=http://files:8082",
    ],
    {
      env: {
        ...process.env,
        GOOGLE_CLOUD_PROJECT: projectId,
        PUBSUB_EMULATOR_HOST: hosts.pubsub,
        STORAGE_EMULATOR_HOST: storageUrl,
      },
    },
  );
  const pubsub = new PubSub({ projectId, apiEndpoint: hosts.pubsub, emulatorMode: true });
  try {
    const [topicList] = await pubsub.getTopics();
    const names = topicList.map((topic) => topic.name.split("/").pop());
    for (const topic of topics) {
      assert.ok(names.includes(topic.name) && names.includes(deadLetterTopicName(topic)));
    }
    const [metadata] = await pubsub
      .subscription(subscriptionName(fileUploaded, "files"))
      .getMetadata();
    assert.equal(metadata.pushConfig?.pushEndpoint, "http://files:8082/pubsub/file-uploaded");
  } finally {
    await pubsub.close();
  }
  const storage = new Storage({ projectId, apiEndpoint: storageUrl });
  const buckets = defaultBucketNames(projectId);
  for (const name of Object.values(buckets)) {
    assert.ok((await storage.bucket(name).exists())[0], `bucket ${name}`);
  }
  const [notifications] = await storage.bucket(buckets.uploads).getNotifications();
  assert.equal(notifications.length, 1);
});
