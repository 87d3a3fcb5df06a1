// `./syncstack cloud`: builds and pushes the service images and applies the infrastructure
// rendered from the registries to a Google Cloud project. `--plan` prints what it would do,
// with no credentials and no network.
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseCommandLine, usageError } from "@syncstack/shared/cli";
import { type DeployPlan, deployPlan } from "./deploy-plan.ts";
import { runCommand } from "./run-command.ts";
import { renderInfraText } from "./terraform/render.ts";

const usage = `usage: ./syncstack cloud --project <id> [--region <region>] [--tag <tag>] [--firebase-api-key <key>] [--yes]
       ./syncstack cloud --plan [--project <id>] ...

  --project <id>   Google Cloud project (default $GOOGLE_CLOUD_PROJECT)
  --region <name>  Cloud Run, Scheduler, buckets and images (default us-central1)
  --tag <tag>      image tag (default the git commit)
  --firebase-api-key <key>
                   the Firebase web API key the ops console signs in with (default
                   $FIREBASE_API_KEY); without it the console is not deployed
  --plan           print the images and Terraform resources; change nothing
  --yes            apply without terraform asking for confirmation
  -h, --help       this text

Needs docker, gcloud (logged in: gcloud auth login and gcloud auth application-default login)
and terraform on PATH; --plan needs none of them.`;

function fail(message: string, code = 2): never {
  process.stderr.write(`cloud: ${message}\n`);
  process.exit(code);
}

const { values } = parseCommandLine(
  {
    options: {
      project: { type: "string", default: process.env.GOOGLE_CLOUD_PROJECT },
      region: { type: "string", default: "us-central1" },
      tag: { type: "string" },
      "firebase-api-key": { type: "string", default: process.env.FIREBASE_API_KEY },
      plan: { type: "boolean", default: false },
      yes: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  },
  usage,
  usageError("cloud", usage),
);
const projectId =
  values.project ?? (values.plan ? "<project>" : fail(`--project is required\n${usage}`));
if (!values.plan && !/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) {
  fail(`--project ${projectId} is not a Google Cloud project id`);
}

/** The current commit, marked when the tree has changes; `latest` outside git. */
function gitTag(): string {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], { encoding: "utf8" });
    const dirty = execFileSync("git", ["status", "--porcelain"], { encoding: "utf8" }).trim();
    return `${commit.trim()}${dirty ? "-dirty" : ""}`;
  } catch {
    return "latest";
  }
}

const plan = deployPlan({
  projectId,
  region: values.region,
  tag: values.tag ?? gitTag(),
  autoApprove: values.yes,
  ...(values["firebase-api-key"] ? { firebaseApiKey: values["firebase-api-key"] } : {}),
});

function printPlan(plan: DeployPlan): void {
  const lines = [
    `Deploy plan for project ${projectId}, region ${values.region} (nothing changes in plan mode)`,
    "",
    "Images to build (Dockerfile, target service) and push:",
    ...Object.entries(plan.images).map(([service, image]) => `  ${service.padEnd(10)} ${image}`),
    "",
    `Terraform resources to create or update (infra/syncstack.tf.json, ${plan.resources.length}):`,
    ...plan.resources.map((address) => `  + ${address}`),
    "",
    "Steps:",
    ...plan.steps.map(
      (step, i) => `  ${i + 1}. ${step.why}: ${step.command} ${step.args.join(" ")}`,
    ),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

if (values.plan) {
  printPlan(plan);
  process.exit(0);
}

const missing = ["docker", "gcloud", "terraform"].filter((tool) => {
  try {
    execFileSync(tool, ["--version"], { stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
});
if (missing.length > 0) {
  fail(
    `${missing.join(", ")} not found on PATH: a deploy needs docker, gcloud and terraform (./syncstack cloud --plan needs none)`,
    1,
  );
}

try {
  await mkdir(plan.workDir, { recursive: true });
  await writeFile(join(plan.workDir, "syncstack.tf.json"), renderInfraText());
  await writeFile(
    join(plan.workDir, "terraform.tfvars.json"),
    `${JSON.stringify(plan.tfvars, null, 2)}\n`,
  );
  for (const [i, step] of plan.steps.entries()) {
    process.stderr.write(`cloud: step ${i + 1}/${plan.steps.length}: ${step.why}\n`);
    await runCommand(step.command, step.args);
  }
  process.stdout.write(`deployed to ${projectId}: terraform -chdir=${plan.workDir} output\n`);
} catch (error) {
  fail((error as Error).message, 1);
}
