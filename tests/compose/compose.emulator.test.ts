import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
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
import { type ComposeService, validateCompose } from "./validate-compose.ts";

const exec = promisify(execFile);
const composeText = readFileSync(join(repoRoot, "docker-compose.yml"), "utf8");

test("docker-compose.yml follows the Compose specification and wires the emulators, provisioning, services and scheduler", () => {
  const { services } = validateCompose(composeText);
  const expected = ["pubsub", "firestore", "storage", "provision", ...serviceNames, "scheduler"];
  assert.deepEqual(Object.keys(services).sort(), expected.sort());
  const service = (name: string) => services[name] as ComposeService;
  const provisionCommand = service("provision").command ?? [];
  for (const name of serviceNames) {
    const own = service(name);
    assert.equal(own.build?.args?.SERVICE, name, `${name} builds its own image`);
    assert.equal(
      own.build?.args?.NODE_OPTIONS ?? "",
      serviceNodeOptions[name],
      `${name} builds with its V8 options`,
    );
    for (const [variable, value] of Object.entries(serviceEnvironment[name])) {
      assert.equal(
        String(own.environment?.[variable]),
        String(value),
        `${name} runs with ${variable}`,
      );
    }
    assert.equal(own.build?.target, "service");
    assert.deepEqual(
      (own.depends_on as Record<string, { condition: string }>).provision,
      { condition: "service_completed_successfully" },
      `${name} waits for provision`,
    );
    const port = own.environment?.PORT;
    assert.match(port ?? "", /^\d+$/, `${name} sets PORT`);
    assert.deepEqual(own.ports, [`${port}:${port}`]);
    // Push subscriptions point at the service's hostname and port.
    assert.ok(provisionCommand.includes(`${name}=http://${name}:${port}`), `provision ${name}`);
  }
  for (const emulator of ["pubsub", "firestore"]) {
    assert.equal(
      service(emulator).image,
      "gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators",
    );
  }
});

test("a compose file with a key the Compose specification does not have is refused, naming it", () => {
  const unknownKey = composeText.replace(/^ {2}sync:\n/m, "  sync:\n    restart_policy: always\n");
  assert.notEqual(unknownKey, composeText);
  assert.throws(
    () => validateCompose(unknownKey),
    /Compose specification:\n(.*\n)*\/services\/sync must NOT have additional properties: restart_policy/,
  );
  const badPorts = composeText.replace('ports: ["8081:8081"]', "ports: 8081");
  assert.notEqual(badPorts, composeText);
  assert.throws(() => validateCompose(badPorts), /\/services\/sync\/ports must be array/);
  assert.throws(
    () => validateCompose("servics:\n  sync:\n    image: x\n"),
    /\/ must NOT have additional properties: servics/,
  );
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
