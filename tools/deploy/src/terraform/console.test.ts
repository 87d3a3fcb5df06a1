import assert from "node:assert/strict";
import { test } from "node:test";
import { consoleEnvSchema, telemetrySourceOf } from "@syncstack/console-server";
import { deadLetterSubscriptionName, serviceNames, topics } from "@syncstack/shared";
import { deployPlan } from "../deploy-plan.ts";
import { consoleAppDir, consoleProjectRoles } from "./console.ts";
import { renderInfrastructure } from "./render.ts";
import { type Block, tfId } from "./terraform.ts";

const infra = renderInfrastructure();
const resources = infra.resource as Record<string, Record<string, Block>>;
const member = "serviceAccount:${google_service_account.console.email}";
const grantsOf = (type: string) =>
  Object.values(resources[type] ?? {}).filter((grant) => grant.member === member);

test("the console is its own Cloud Run service, beside the four and not one of them", () => {
  assert.ok(!(serviceNames as readonly string[]).includes("console"));
  const run = resources.google_cloud_run_v2_service?.console as {
    name: string;
    count: string;
    template: {
      service_account: string;
      containers: { image: string; env: { name: string; value: string }[] }[];
    };
  };
  assert.equal(run.name, "syncstack-console");
  assert.equal(run.template.service_account, "${google_service_account.console.email}");
  assert.equal(run.template.containers[0]?.image, "${var.images.console}");
  // Deployed only with the Firebase web API key its pages sign in with.
  assert.equal(run.count, "${var.firebase_api_key == null ? 0 : 1}");
  assert.equal(infra.variable?.firebase_api_key?.default, null);
  const env = Object.fromEntries(
    (run.template.containers[0]?.env ?? []).map((entry) => [entry.name, entry.value]),
  );
  assert.equal(env.CONSOLE_APP_DIR, consoleAppDir);
  // Traces and rates from Cloud Trace and Cloud Monitoring: there is no collector on Cloud Run.
  assert.equal(env.CONSOLE_TELEMETRY_SOURCE, "cloud");
  assert.equal(env.TELEMETRY_URL, undefined);
  assert.equal(env.CONSOLE_DEV_ROOT, undefined, "never Vite's dev server in production");
  assert.equal(env.FIREBASE_AUTH_EMULATOR_HOST, undefined);
  for (const service of serviceNames) {
    assert.equal(
      env[`${service.toUpperCase()}_URL`],
      `\${google_cloud_run_v2_service.${service}.uri}`,
    );
  }
  // Every variable the console's config needs is set (the URLs as they will be resolved).
  const parsed = consoleEnvSchema.safeParse({
    ...env,
    ...Object.fromEntries(
      serviceNames.map((service) => [`${service.toUpperCase()}_URL`, `https://${service}.run.app`]),
    ),
    GOOGLE_CLOUD_PROJECT: "demo-project",
    LOG_LEVEL: "INFO",
    OTEL_TRACES_EXPORTER: "gcp",
    OTEL_METRICS_EXPORTER: "gcp",
    FIREBASE_API_KEY: "key",
    FIREBASE_AUTH_DOMAIN: "demo-project.firebaseapp.com",
  });
  assert.ok(parsed.success, parsed.error?.message);
  assert.equal(telemetrySourceOf(parsed.data), "cloud");
  assert.equal(
    infra.output?.console_url?.value,
    "${one(google_cloud_run_v2_service.console[*].uri)}",
  );
});

test("the console's account has only the roles it needs", () => {
  assert.deepEqual(
    grantsOf("google_project_iam_member").map((grant) => grant.role),
    consoleProjectRoles,
  );
  assert.deepEqual(consoleProjectRoles, [
    "roles/pubsub.viewer",
    "roles/datastore.viewer",
    "roles/telemetry.tracesWriter",
    "roles/telemetry.metricsWriter",
    // Reading only: the Traces page (cloudtrace.traces.list / get) and the rates (PromQL).
    "roles/cloudtrace.user",
    "roles/monitoring.viewer",
  ]);
  // Replays publish to the registry's topics; reading and dropping dead letters pulls them.
  assert.deepEqual(
    grantsOf("google_pubsub_topic_iam_member").map((grant) => [grant.topic, grant.role]),
    topics.map((topic) => [
      `\${google_pubsub_topic.${tfId(topic.name)}.name}`,
      "roles/pubsub.publisher",
    ]),
  );
  assert.deepEqual(
    grantsOf("google_pubsub_subscription_iam_member").map((grant) => [
      grant.subscription,
      grant.role,
    ]),
    topics.map((topic) => [
      `\${google_pubsub_subscription.${tfId(deadLetterSubscriptionName(topic))}.name}`,
      "roles/pubsub.subscriber",
    ]),
  );
  assert.equal(grantsOf("google_storage_bucket_iam_member").length, 0, "no bucket access");
  const invokers = Object.entries(resources.google_cloud_run_v2_service_iam_member ?? {}).filter(
    ([name]) => name.startsWith("console"),
  );
  // Its pages are public files; every /v1/console route admits only an admin's token.
  assert.deepEqual(
    invokers.map(([, grant]) => [grant.role, grant.member]),
    [["roles/run.invoker", "allUsers"]],
  );
});

test("a deploy builds and pushes the console's image and passes the Firebase key", () => {
  const plan = deployPlan({
    projectId: "demo-proj",
    region: "us-central1",
    tag: "t1",
    autoApprove: true,
    firebaseApiKey: "web-key",
  });
  assert.equal(plan.images.console, "us-central1-docker.pkg.dev/demo-proj/syncstack/console:t1");
  const commands = plan.steps.map((step) => `${step.command} ${step.args.join(" ")}`);
  assert.ok(commands.some((c) => c.includes("--build-arg SERVICE=console")));
  assert.ok(commands.includes(`docker push ${plan.images.console}`));
  assert.equal(plan.tfvars.firebase_api_key, "web-key");
  const without = deployPlan({
    projectId: "demo-proj",
    region: "us-central1",
    tag: "t1",
    autoApprove: true,
  });
  assert.equal(without.tfvars.firebase_api_key, undefined);
});
