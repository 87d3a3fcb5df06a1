import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { analyticsEnvSchema, analyticsService } from "@syncstack/analytics";
import { backupEnvSchema, backupService } from "@syncstack/backup";
import { filesEnvSchema, filesService } from "@syncstack/files";
import { repoRoot } from "@syncstack/local-stack";
import * as shared from "@syncstack/shared";
import {
  type BaseConfig,
  type CollectionSpec,
  closeServiceContext,
  collections,
  createServiceApp,
  createServiceContext,
  deadLetterTopicName,
  loadAccessRules,
  loadConfig,
  parseAccessRules,
  processedMessagesCollection,
  pushPath,
  type ServiceContext,
  type ServiceDefinition,
  type ServiceName,
  serviceNames,
  subscriptionName,
  type TopicSpec,
  topics,
} from "@syncstack/shared";
import { bucketSpecs, serviceEnvironment } from "@syncstack/shared/provision";
import { listen } from "@syncstack/shared/testing";
import { syncEnvSchema, syncService } from "@syncstack/sync";
import type { z } from "zod";
import { renderProject } from "./project.ts";
import { infraFile, renderInfrastructure, renderInfraText } from "./render.ts";
import { type Block, tfId } from "./terraform.ts";
import { accessRulesFile, renderTombstoneTtls, tombstoneTtlResourceName } from "./tombstones.ts";

process.env.METADATA_SERVER_DETECTION = "none";
const registry: readonly TopicSpec[] = topics;
const text = await readFile(infraFile, "utf8");
const config = JSON.parse(text) as {
  resource: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  variable: Record<string, Block>;
  locals: Block;
};
const resources = config.resource;
const tf = (expression: string) => `\${${expression}}`;
const serviceAccount = (service: ServiceName) => tf(`google_service_account.${service}.email`);
const envOf = (service: ServiceName) => {
  const run = resources.google_cloud_run_v2_service?.[service] as
    | { template: { containers: { env: { name: string; value: string }[] }[] } }
    | undefined;
  const env = run?.template.containers[0]?.env ?? [];
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
};

test("infra/syncstack.tf.json is the rendering of the registries (pnpm run infra rewrites it)", () => {
  assert.ok(text === renderInfraText(), "infra/syncstack.tf.json is stale: run pnpm run infra");
});

test("each Cloud Run service runs with its environment from the registry", () => {
  assert.equal(serviceEnvironment.files.MALLOC_ARENA_MAX, "2");
  for (const service of serviceNames) {
    const env = envOf(service);
    for (const [name, value] of Object.entries(serviceEnvironment[service])) {
      assert.equal(env[name], value, `${service} sets ${name}`);
    }
  }
});

test("records with expire_at expire by a TTL policy; unqueried long fields are not indexed", () => {
  const fields = Object.values(resources.google_firestore_field ?? {}) as {
    collection: string;
    field: string;
    ttl_config?: object;
    index_config?: object;
  }[];
  const policy = (collection: string, field: string) =>
    fields.find((f) => f.collection === collection && f.field === field);
  for (const collection of ["_idempotency", processedMessagesCollection]) {
    assert.deepEqual(policy(collection, "expire_at")?.ttl_config, {}, `${collection} expires`);
    assert.deepEqual(policy(collection, "expire_at")?.index_config, {});
  }
  assert.deepEqual(policy("_outbox", "events")?.index_config, {}, "outbox events not indexed");
  assert.equal(policy("_outbox", "events")?.ttl_config, undefined, "outbox entries never expire");
});

test("a collection added to the collections registry gets its TTL and index policies", () => {
  const added: CollectionSpec = {
    name: "_new_records",
    owners: ["files"],
    internal: true,
    description: "a collection this test adds",
    ttlField: "gone_at",
    unindexedFields: ["blob"],
  };
  const fields = renderProject([...collections, added]).resource?.google_firestore_field as Record<
    string,
    { collection: string; field: string; ttl_config?: object; index_config?: object }
  >;
  assert.deepEqual(fields.new_records_ttl, {
    ...fields.new_records_ttl,
    collection: "_new_records",
    field: "gone_at",
    ttl_config: {},
    index_config: {},
  });
  assert.equal(fields.new_records_blob?.collection, "_new_records");
  assert.equal(fields.new_records_blob?.ttl_config, undefined);
  assert.ok(fields.idempotency_ttl, "the registry's own policies stay");
});

type FieldResource = {
  database: string;
  collection: string;
  field: string;
  ttl_config?: object;
  index_config?: object;
};
const firestoreFields = (config: { resource?: Record<string, Record<string, Block>> }) =>
  (config.resource?.google_firestore_field ?? {}) as Record<string, FieldResource>;

test("each collection the access rules name gets a TTL policy on its tombstones' expire_at", () => {
  const rules = parseAccessRules(
    JSON.stringify({
      collections: {
        notes: { policy: "owner" },
        projects: { policy: "members", members_field: "team" },
        "to-do": { policy: "shared-read" },
        "to.do": { policy: "admin-only" },
      },
    }),
    "test rules",
  );
  const fields = firestoreFields(renderInfrastructure(rules));
  const tombstones = Object.entries(fields).filter(([name]) => name.startsWith("tombstones_"));
  assert.deepEqual(Object.fromEntries(tombstones), {
    tombstones_notes_ttl: {
      database: "(default)",
      collection: "notes",
      field: "expire_at",
      ttl_config: {},
      depends_on: ["google_firestore_database.default", "google_project_service.firestore"],
    },
    tombstones_projects_ttl: { ...fields.tombstones_projects_ttl, collection: "projects" },
    // Names Terraform cannot spell get a hash of the real name: distinct and stable.
    tombstones_to_do_eb03c63a_ttl: { ...fields.tombstones_to_do_eb03c63a_ttl, collection: "to-do" },
    tombstones_to_do_9ca62f63_ttl: { ...fields.tombstones_to_do_9ca62f63_ttl, collection: "to.do" },
  });
  for (const [name, field] of tombstones) {
    assert.match(name, /^[A-Za-z_][A-Za-z0-9_]*$/, "a Terraform identifier");
    assert.equal(field.field, "expire_at", `${name} is on expire_at only`);
    assert.deepEqual(field.ttl_config, {});
    // No index_config: expire_at keeps its default indexes, as updated_at and readers.* do.
    assert.equal(field.index_config, undefined, `${name} leaves the indexes alone`);
  }
  assert.ok(fields.idempotency_ttl && fields.outbox_events, "the registry's policies stay");
});

test("no field of an app collection is exempted from indexing (the feed needs updated_at, readers.*)", () => {
  const rules = parseAccessRules('{"collections": {"notes": {"policy": "owner"}}}', "test rules");
  const fields = Object.values(firestoreFields(renderInfrastructure(rules)));
  assert.deepEqual(
    fields.filter((field) => field.collection === "notes").map((field) => field.field),
    ["expire_at"],
  );
  assert.ok(fields.every((field) => !["updated_at", "readers"].includes(field.field)));
});

test("the render reads the sync service's shipped rules file by default", () => {
  assert.equal(accessRulesFile, join(repoRoot, "services", "sync", "access-rules.json"));
  const named = [...loadAccessRules(accessRulesFile).named().keys()];
  const rendered = Object.values(firestoreFields(config))
    .filter(
      (field) =>
        field.field === "expire_at" && !collections.some((c) => c.name === field.collection),
    )
    .map((field) => field.collection);
  assert.deepEqual(rendered.sort(), named.sort(), "the committed file has the shipped collections");
  assert.deepEqual(renderInfrastructure(), renderInfrastructure(loadAccessRules(accessRulesFile)));
});

test("a bad rules file stops the render, naming the entry", async () => {
  const dir = await mkdtemp(join(tmpdir(), "access-rules-"));
  try {
    const path = join(dir, "access-rules.json");
    await writeFile(path, '{"collections": {"projects": {"policy": "members"}}}');
    assert.throws(
      () => renderInfrastructure(loadAccessRules(path)),
      /access rules \S+access-rules\.json: collections\.projects\.members_field is required/,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("two collections whose tombstone policies would share a Terraform name stop the render", () => {
  const plain = tombstoneTtlResourceName("a-b").replace(/^tombstones_|_ttl$/g, "");
  assert.equal(tombstoneTtlResourceName(plain), tombstoneTtlResourceName("a-b"));
  const rules = parseAccessRules(
    JSON.stringify({ collections: { "a-b": { policy: "owner" }, [plain]: { policy: "owner" } } }),
    "test rules",
  );
  assert.throws(
    () => renderTombstoneTtls(rules),
    new RegExp(`collections a-b and ${plain} both render as google_firestore_field\\.tombstones_`),
  );
});

test("the files listing's query has its composite index (owner, deleted, created desc, id desc)", () => {
  const indexes = Object.values(resources.google_firestore_index ?? {}) as {
    collection: string;
    query_scope: string;
    fields: { field_path: string; order: string }[];
  }[];
  const files = indexes.filter((index) => index.collection === "files");
  assert.deepEqual(files, [
    {
      ...files[0],
      query_scope: "COLLECTION",
      fields: [
        { field_path: "owner", order: "ASCENDING" },
        { field_path: "deleted", order: "ASCENDING" },
        { field_path: "created", order: "DESCENDING" },
        { field_path: "__name__", order: "DESCENDING" },
      ],
    },
  ]);
});

test("a composite index added to the collections registry is rendered", () => {
  const added: CollectionSpec = {
    name: "_new_records",
    owners: ["files"],
    internal: true,
    description: "a collection this test adds",
    indexes: [
      {
        fields: [
          ["kind", "ASCENDING"],
          ["at", "ASCENDING"],
          ["__name__", "DESCENDING"],
        ],
      },
    ],
  };
  const indexes = renderProject([...collections, added]).resource?.google_firestore_index as Record<
    string,
    { collection: string; fields: { field_path: string; order: string }[] }
  >;
  assert.equal(indexes.new_records_kind_at___name__?.collection, "_new_records");
  assert.deepEqual(indexes.new_records_kind_at___name__?.fields, [
    { field_path: "kind", order: "ASCENDING" },
    { field_path: "at", order: "ASCENDING" },
    { field_path: "__name__", order: "DESCENDING" },
  ]);
  assert.ok(indexes.files_owner_deleted_created, "the registry's own indexes stay");
});

test("every reference names a declared resource, data source, variable or local", () => {
  for (const [, kind, first, second] of text.matchAll(
    /\b(var|local|data|google_[a-z0-9_]+)\.([a-z0-9_]+)(?:\.([a-z0-9_]+))?/g,
  )) {
    const declared =
      kind === "var"
        ? first && first in config.variable
        : kind === "local"
          ? first && first in config.locals
          : kind === "data"
            ? first && second && second in (config.data[first] ?? {})
            : first && first in (resources[kind as string] ?? {});
    assert.ok(
      declared,
      `${kind}.${first}${second ? `.${second}` : ""} is referenced, not declared`,
    );
  }
});

describe("subscriptions against the services that serve them", () => {
  const servers = new Map<ServiceName, { url: string; close(): Promise<void> }>();
  const contexts: ServiceContext[] = [];
  before(async () => {
    const env = {
      GOOGLE_CLOUD_PROJECT: "demo-infra",
      PUBSUB_EMULATOR_HOST: "127.0.0.1:9",
      FIRESTORE_EMULATOR_HOST: "127.0.0.1:9",
      STORAGE_EMULATOR_HOST: "http://127.0.0.1:9",
      LOG_LEVEL: "ERROR",
    };
    const start = async <C extends BaseConfig>(
      name: ServiceName,
      schema: z.ZodType<C>,
      define: (ctx: ServiceContext<C>) => ServiceDefinition,
    ) => {
      const ctx = createServiceContext(name, loadConfig(schema, env));
      contexts.push(ctx);
      servers.set(name, await listen(createServiceApp(ctx, define(ctx))));
    };
    await start("sync", syncEnvSchema, (ctx) => syncService(ctx));
    await start("files", filesEnvSchema, filesService);
    await start("backup", backupEnvSchema, backupService);
    await start("analytics", analyticsEnvSchema, (ctx) => analyticsService(ctx));
    assert.deepEqual([...servers.keys()].sort(), [...serviceNames].sort());
  });
  after(async () => {
    await Promise.all([...servers.values()].map((server) => server.close()));
    await Promise.all(contexts.map((ctx) => closeServiceContext(ctx)));
  });

  test("each pushes to a path its service serves, with a token for that service's audience", async () => {
    const rendered = resources.google_pubsub_subscription ?? {};
    for (const topic of registry) {
      for (const spec of topic.subscriptions) {
        const name = subscriptionName(topic, spec.service);
        const subscription = rendered[tfId(name)];
        assert.ok(subscription, `subscription ${name} is not rendered`);
        const push = subscription.push_config as {
          push_endpoint: string;
          oidc_token: { service_account_email: string; audience: string };
        };
        const base = tf(`google_cloud_run_v2_service.${spec.service}.uri`);
        assert.ok(push.push_endpoint.startsWith(base), `${name} pushes to ${push.push_endpoint}`);
        const path = push.push_endpoint.slice(base.length);
        assert.equal(path, pushPath(topic));
        // An empty body reaches the push handler (400: not an envelope); an unserved path is 404.
        const response = await fetch(`${servers.get(spec.service)?.url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        const body = (await response.json()) as { error: { message: string } };
        assert.equal(response.status, 400, `${spec.service} does not serve ${path}`);
        assert.match(body.error.message, /not a Pub\/Sub push envelope/);
        const env = envOf(spec.service);
        assert.equal(push.oidc_token.audience, env.PUSH_AUDIENCE);
        assert.equal(push.oidc_token.service_account_email, env.PUSH_SERVICE_ACCOUNT);
        assert.equal(env.PUSH_AUTH, "on");
      }
    }
    const unserved = await fetch(`${servers.get("files")?.url}/pubsub/stats-tick`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(unserved.status, 404);
  });
});

test("subscriptions carry the registry's retry and dead-letter policy within Pub/Sub's limits", () => {
  for (const topic of registry) {
    for (const spec of topic.subscriptions) {
      const subscription = resources.google_pubsub_subscription?.[
        tfId(subscriptionName(topic, spec.service))
      ] as Block;
      const deadLetter = subscription.dead_letter_policy as Block;
      assert.equal(
        deadLetter.dead_letter_topic,
        tf(`google_pubsub_topic.${tfId(deadLetterTopicName(topic))}.id`),
      );
      const attempts = deadLetter.max_delivery_attempts as number;
      assert.equal(attempts, topic.retry.maxDeliveryAttempts);
      assert.ok(attempts >= 5 && attempts <= 100, `${topic.name}: ${attempts} attempts`);
      assert.deepEqual(subscription.retry_policy, {
        minimum_backoff: `${topic.retry.minBackoffSeconds}s`,
        maximum_backoff: `${topic.retry.maxBackoffSeconds}s`,
      });
      assert.ok(topic.retry.maxBackoffSeconds <= 600 && topic.retry.minBackoffSeconds >= 0);
      assert.ok(spec.ackDeadlineSeconds >= 10 && spec.ackDeadlineSeconds <= 600);
      assert.equal(subscription.filter, spec.filter);
      // The Pub/Sub service agent moves dead letters: it acks here and publishes there.
      const agentIam = resources.google_pubsub_subscription_iam_member ?? {};
      assert.ok(
        Object.values(agentIam).some(
          (grant) =>
            grant.member === tf("local.pubsub_agent") &&
            grant.subscription ===
              tf(`google_pubsub_subscription.${tfId(subscriptionName(topic, spec.service))}.name`),
        ),
      );
    }
  }
});

/** The topics each service's code publishes to, read from `.publish(<topic constant>` calls. */
async function publishedInCode(service: ServiceName): Promise<string[]> {
  const dir = join(repoRoot, "services", service, "src");
  const files = (await readdir(dir, { recursive: true })).filter(
    (file) => file.endsWith(".ts") && !file.endsWith(".test.ts") && !file.startsWith("testing"),
  );
  const names = new Set<string>();
  for (const file of files) {
    const source = await readFile(join(dir, file), "utf8");
    for (const [, constant] of source.matchAll(/\.publish\(\s*([A-Za-z_$][\w$]*)/g)) {
      const topic = (shared as Record<string, unknown>)[constant as string] as
        | TopicSpec
        | undefined;
      assert.ok(
        topic?.name,
        `${service}/${file} publishes ${constant}, not a topic of the registry`,
      );
      names.add(topic.name);
    }
  }
  return [...names].sort();
}

test("every topic a service publishes to exists, is declared, and is all it may publish to", async () => {
  const grants = Object.values(resources.google_pubsub_topic_iam_member ?? {});
  for (const service of serviceNames) {
    const inCode = await publishedInCode(service);
    const declared = registry.filter((t) => t.publishers.includes(service)).map((t) => t.name);
    assert.deepEqual(inCode, [...declared].sort(), `${service}'s publishers in the registry`);
    for (const name of inCode) {
      assert.ok(
        registry.some((topic) => topic.name === name) &&
          resources.google_pubsub_topic?.[tfId(name)],
      );
    }
    const consumed = registry.filter((t) => t.subscriptions.some((s) => s.service === service));
    const granted = grants
      .filter((grant) => grant.member === `serviceAccount:${serviceAccount(service)}`)
      .map((grant) => grant.topic);
    const expected = [...declared, ...consumed.map((t) => deadLetterTopicName(t))].map((name) =>
      tf(`google_pubsub_topic.${tfId(name)}.name`),
    );
    assert.deepEqual(
      [...granted].sort(),
      [...expected].sort(),
      `${service} may publish exactly there`,
    );
  }
});

test("scheduler jobs publish a valid message on the registry's schedule", () => {
  const jobs = resources.google_cloud_scheduler_job ?? {};
  const scheduled = registry.filter((topic) => topic.schedule);
  assert.equal(Object.keys(jobs).length, scheduled.length);
  for (const topic of scheduled) {
    const job = jobs[tfId(topic.name)] as Block;
    const target = job.pubsub_target as { topic_name: string; data: string };
    assert.equal(job.schedule, topic.schedule?.cron);
    assert.equal(job.time_zone, topic.schedule?.timeZone);
    assert.equal(target.topic_name, tf(`google_pubsub_topic.${tfId(topic.name)}.id`));
    const payload = JSON.parse(Buffer.from(target.data, "base64").toString("utf8"));
    assert.ok(topic.schema.safeParse(payload).success, `${topic.name}: ${JSON.stringify(payload)}`);
  }
});

test("buckets, their notification and access follow the bucket registry", () => {
  for (const bucket of bucketSpecs) {
    assert.ok(resources.google_storage_bucket?.[bucket.role], `bucket ${bucket.role}`);
    for (const notification of bucket.notifications) {
      const rendered = Object.values(resources.google_storage_notification ?? {}).find(
        (n) => n.bucket === tf(`google_storage_bucket.${bucket.role}.name`),
      );
      assert.equal(rendered?.topic, tf(`google_pubsub_topic.${tfId(notification.topic.name)}.id`));
      assert.deepEqual(rendered?.event_types, notification.eventTypes);
      assert.equal(rendered?.payload_format, "JSON_API_V1");
    }
    for (const service of serviceNames) {
      const access = bucket.access[service];
      const grant = Object.values(resources.google_storage_bucket_iam_member ?? {}).find(
        (g) =>
          g.bucket === tf(`google_storage_bucket.${bucket.role}.name`) &&
          g.member === `serviceAccount:${serviceAccount(service)}`,
      );
      assert.equal(grant !== undefined, access !== undefined, `${service} on ${bucket.role}`);
      if (bucket.env && access)
        assert.equal(envOf(service)[bucket.env], tf(`local.buckets.${bucket.role}`));
    }
  }
});
