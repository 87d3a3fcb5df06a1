import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "@syncstack/local-stack";
import { serviceNames, topics } from "@syncstack/shared";
import { deployPlan } from "./deploy-plan.ts";

/** Runs the CLI with only node on PATH: no docker, gcloud, terraform or credentials. */
function cloud(...args: string[]) {
  return spawnSync(
    process.execPath,
    ["--conditions=source", join(repoRoot, "tools/deploy/src/cloud-cli.ts"), ...args],
    { encoding: "utf8", env: { PATH: dirname(process.execPath), HOME: "/nonexistent" } },
  );
}

test("--plan prints the images and Terraform resources with no tools, credentials or network", () => {
  const result = cloud(
    "--plan",
    "--project",
    "demo-proj",
    "--region",
    "europe-west1",
    "--tag",
    "t1",
  );
  assert.equal(result.status, 0, result.stderr);
  for (const service of serviceNames) {
    assert.ok(
      result.stdout.includes(`europe-west1-docker.pkg.dev/demo-proj/syncstack/${service}:t1`),
    );
    assert.ok(result.stdout.includes(`+ google_cloud_run_v2_service.${service}\n`), service);
  }
  for (const topic of topics) {
    assert.ok(result.stdout.includes(`+ google_pubsub_topic.${topic.name.replaceAll("-", "_")}\n`));
  }
});

test("a deploy without docker, gcloud or terraform stops naming what is missing", () => {
  const result = cloud("--project", "demo-proj", "--tag", "t1");
  assert.equal(result.status, 1);
  assert.match(result.stderr, /docker, gcloud, terraform not found on PATH/);
  const noProject = cloud("--tag", "t1");
  assert.equal(noProject.status, 2);
  assert.match(noProject.stderr, /--project is required/);
});

test("a deploy pushes every image before the full apply, which uses them", () => {
  const plan = deployPlan({
    projectId: "demo-proj",
    region: "us-central1",
    tag: "t1",
    autoApprove: true,
  });
  const commands = plan.steps.map((step) => `${step.command} ${step.args.join(" ")}`);
  const finalApply = commands.findLastIndex(
    (c) => c.startsWith("terraform") && c.includes(" apply "),
  );
  assert.equal(finalApply, commands.length - 1);
  assert.ok(!commands[finalApply]?.includes("-target="));
  assert.ok(commands[finalApply]?.includes("-auto-approve"));
  for (const image of Object.values(plan.images)) {
    const push = commands.indexOf(`docker push ${image}`);
    assert.ok(push > 0 && push < finalApply, `${image} is pushed before the apply`);
  }
  assert.deepEqual(plan.tfvars.images, plan.images);
});
