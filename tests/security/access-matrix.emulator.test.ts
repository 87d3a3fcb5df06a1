// The access rules, route by route: every route of every service is either a way to read,
// write or delete app documents, and then runs against every policy for the document's owner,
// a member, another user, an admin and a caller without a token, or is listed below with why
// it touches no app document. A route added later fails this test until it is one or the other.
// A refused request must answer its status, change and publish nothing, and leak nothing.
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type RealtimeUpdate, realtimeUpdates } from "@syncstack/shared";
import {
  type Collector,
  collectMessages,
  emulatorIdToken,
  testProjectId,
  waitFor,
} from "@syncstack/shared/testing";
import { routeKey, routesOf } from "../fuzz/routes-of.ts";
import {
  closeServices,
  type ServiceUnderTest,
  startServices,
} from "../harness/services-under-test.ts";

const projectId = testProjectId();

/** One collection per policy; `private` is named nowhere, so it has the default (owner). */
const rules = {
  collections: {
    projects: { policy: "members", members_field: "members" },
    posts: { policy: "shared-read" },
    flags: { policy: "admin-only" },
  },
};
type Policy = "owner" | "members" | "shared-read" | "admin-only";
const collectionOf: Record<Policy, string> = {
  owner: "private",
  members: "projects",
  "shared-read": "posts",
  "admin-only": "flags",
};

type Actor = "owner" | "member" | "other" | "admin" | "none";
const uidOf: Record<Exclude<Actor, "none">, string> = {
  owner: "olga",
  member: "mia",
  other: "otto",
  admin: "ada",
};
type Action = "read" | "write" | "delete";

/**
 * What each actor may do to an existing document, per policy: `ok`, `hidden` (the 404 of a
 * missing document: existence does not leak), `denied` (403: the caller may see the document
 * or the collection is closed to it), `401` without a token. In an admin-only collection the
 * document is the admin's, and the "owner" is just another user.
 */
const expected: Record<Policy, Record<Actor, Record<Action, "ok" | "hidden" | "denied" | 401>>> = {
  owner: {
    owner: { read: "ok", write: "ok", delete: "ok" },
    member: { read: "hidden", write: "hidden", delete: "hidden" },
    other: { read: "hidden", write: "hidden", delete: "hidden" },
    admin: { read: "ok", write: "ok", delete: "ok" },
    none: { read: 401, write: 401, delete: 401 },
  },
  members: {
    owner: { read: "ok", write: "ok", delete: "ok" },
    member: { read: "ok", write: "ok", delete: "denied" },
    other: { read: "hidden", write: "hidden", delete: "hidden" },
    admin: { read: "ok", write: "ok", delete: "ok" },
    none: { read: 401, write: 401, delete: 401 },
  },
  "shared-read": {
    owner: { read: "ok", write: "ok", delete: "ok" },
    member: { read: "ok", write: "denied", delete: "denied" },
    other: { read: "ok", write: "denied", delete: "denied" },
    admin: { read: "ok", write: "ok", delete: "ok" },
    none: { read: 401, write: 401, delete: 401 },
  },
  "admin-only": {
    owner: { read: "denied", write: "denied", delete: "denied" },
    member: { read: "denied", write: "denied", delete: "denied" },
    other: { read: "denied", write: "denied", delete: "denied" },
    admin: { read: "ok", write: "ok", delete: "ok" },
    none: { read: 401, write: 401, delete: 401 },
  },
};

interface Target {
  collection: string;
  document: string;
}

/** A request for one action through one route, and its outcome as a status. */
type Probe = (
  service: ServiceUnderTest,
  target: Target,
  authorization: Record<string, string>,
) => Promise<{ status: number; text: string }>;

const json = { "content-type": "application/json" };
const answer = async (response: Response) => ({
  status: response.status,
  text: await response.text(),
});

/** How each app-document route reads, writes or deletes a document. */
const probes: Record<string, Partial<Record<Action, Probe>>> = {
  "sync POST /v1/sync": {
    write: async (service, { collection, document }, auth) =>
      answer(
        await fetch(`${service.url}/v1/sync`, {
          method: "POST",
          headers: { ...json, ...auth },
          body: JSON.stringify({ collection, document, data: { touched: true } }),
        }),
      ),
  },
  "sync POST /v1/sync:batch": {
    write: (service, target, auth) => batchItem(service, { ...target, data: { touched: 1 } }, auth),
    delete: (service, target, auth) => batchItem(service, { op: "delete", ...target }, auth),
  },
  "sync GET /v1/changes": {
    // The feed never refuses a readable collection: an unreadable document is just absent.
    read: async (service, { collection, document }, auth) => {
      const response = await fetch(
        `${service.url}/v1/changes?collection=${collection}&limit=1000`,
        { headers: auth },
      );
      const text = await response.text();
      if (response.status !== 200) return { status: response.status, text };
      const { changes } = JSON.parse(text) as { changes: { document: string }[] };
      const found = changes.some((change) => change.document === document);
      return { status: found ? 200 : 404, text };
    },
  },
  "sync GET /v1/documents/:collection/:document": {
    read: async (service, { collection, document }, auth) =>
      answer(
        await fetch(`${service.url}/v1/documents/${collection}/${document}`, { headers: auth }),
      ),
  },
  "sync PATCH /v1/documents/:collection/:document": {
    write: async (service, { collection, document }, auth) =>
      answer(
        await fetch(`${service.url}/v1/documents/${collection}/${document}`, {
          method: "PATCH",
          headers: { "content-type": "application/merge-patch+json", ...auth },
          body: JSON.stringify({ touched: "patch" }),
        }),
      ),
  },
  "sync DELETE /v1/documents/:collection/:document": {
    delete: async (service, { collection, document }, auth) =>
      answer(
        await fetch(`${service.url}/v1/documents/${collection}/${document}`, {
          method: "DELETE",
          headers: auth,
        }),
      ),
  },
};

/** Routes that touch no app document, each with the reason and the test that covers it. */
const notAppDocuments: Record<string, string> = {
  "sync POST /v1/users": "announces the caller's own user (tests/security, create-user tests)",
  "files GET /v1/files": "the caller's own file records (files/file-reads tests)",
  "files GET /v1/files/:id": "one of the caller's own file records (files/file-reads tests)",
  "files GET /v1/files/:id/thumbnails/:size": "a thumbnail of the caller's own file",
  "analytics GET /v1/stats": "app-wide figures, admins only (analytics/stats-tick tests)",
  "analytics GET /v1/users/:uid/stats": "the caller's own statistics (analytics tests)",
  "backup POST /^\\/v1\\/backups\\/([^/:]+):restore$/": "admins restore backups (backup tests)",
  "backup GET /v1/backups": "admins list backups (backup admin-routes tests)",
  "backup POST /v1/backups": "admins request a backup (backup admin-routes tests)",
  "backup GET /v1/backups/config": "admins read config/backup (backup admin-routes tests)",
  "backup PATCH /v1/backups/config": "admins change config/backup (backup admin-routes tests)",
  "backup GET /v1/backups/:id": "admins read a backup's state (backup admin-routes tests)",
};

async function batchItem(
  service: ServiceUnderTest,
  item: Record<string, unknown>,
  auth: Record<string, string>,
): Promise<{ status: number; text: string }> {
  const response = await fetch(`${service.url}/v1/sync:batch`, {
    method: "POST",
    headers: { ...json, ...auth },
    body: JSON.stringify({ changes: [item] }),
  });
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, text };
  const { results } = JSON.parse(text) as { results: { status: number }[] };
  return { status: results[0]?.status ?? 500, text };
}

let services: Awaited<ReturnType<typeof startServices>>;
let events: Collector;

before(async () => {
  const dir = await mkdtemp(join(tmpdir(), "access-matrix-"));
  const file = join(dir, "access-rules.json");
  await writeFile(file, JSON.stringify(rules));
  services = await startServices(projectId, { env: { ACCESS_RULES_FILE: file } });
  await services.sync.context.pubsub.createTopic(realtimeUpdates.name);
  events = await collectMessages(services.sync.context.pubsub, realtimeUpdates.name);
});
after(async () => {
  await events?.close();
  await closeServices(services);
});

const bearer = (actor: Actor): Record<string, string> =>
  actor === "none"
    ? {}
    : {
        authorization: `Bearer ${emulatorIdToken(projectId, uidOf[actor], actor === "admin" ? { admin: true } : {})}`,
      };

const statusOf = { ok: 200, hidden: 404, denied: 403, 401: 401 } as const;

test("every route that touches app documents obeys every policy for every caller", async () => {
  const sync = services.sync;
  const db = sync.context.firestore;
  const plans: { name: string; action: Action; probe: Probe }[] = [];
  for (const service of Object.values(services)) {
    for (const route of routesOf(service.app)) {
      const name = `${service.name} ${routeKey(route)}`;
      const path = String(route.path);
      if (path === "/healthz" || path === "/readyz" || path.startsWith("/pubsub/")) continue;
      const routeProbes = probes[name];
      assert.ok(
        routeProbes || notAppDocuments[name],
        `${name} has no access rule: add its probes to tests/security/access-matrix.emulator.test.ts, or say why it touches no app document`,
      );
      for (const [action, probe] of Object.entries(routeProbes ?? {}))
        plans.push({ name, action: action as Action, probe });
    }
  }
  assert.ok(plans.length >= 7, "the sync routes are found");

  let count = 0;
  const refused: { target: Target; version: number; data: unknown }[] = [];
  for (const policy of Object.keys(expected) as Policy[]) {
    const collection = collectionOf[policy];
    for (const actor of Object.keys(expected[policy]) as Actor[]) {
      for (const plan of plans) {
        const target = { collection, document: `d${++count}` };
        const secret = `secret-${count}`;
        const creator = policy === "admin-only" ? "admin" : "owner";
        const created = await fetch(`${sync.url}/v1/sync`, {
          method: "POST",
          headers: { ...json, ...bearer(creator) },
          body: JSON.stringify({
            ...target,
            data: { secret, ...(policy === "members" ? { members: [uidOf.member] } : {}) },
          }),
        });
        assert.equal(created.status, 200, `setting up ${target.document}`);

        const outcome = expected[policy][actor][plan.action];
        const what = `${plan.name} ${plan.action} of a ${policy} document by ${actor}`;
        const result = await plan.probe(sync, target, bearer(actor));
        assert.equal(result.status, statusOf[outcome], `${what}: ${result.text.slice(0, 200)}`);
        if (outcome !== "ok") {
          assert.ok(!result.text.includes(secret), `${what} leaks the data`);
          // A write to a missing document creates it, so only reads and deletes compare.
          const comparable =
            plan.action !== "write" &&
            !plan.name.includes("changes") &&
            !plan.name.includes("batch");
          if (outcome === "hidden" && comparable) {
            const missing = await plan.probe(
              sync,
              { collection, document: `never-${count}` },
              bearer(actor),
            );
            assert.equal(
              result.text.replace(target.document, "ID"),
              missing.text.replace(`never-${count}`, "ID"),
              `${what}: the same answer as a missing document`,
            );
          }
          const stored = await db.collection(collection).doc(target.document).get();
          refused.push({ target, version: stored.get("version"), data: stored.get("data") });
          assert.equal(stored.get("version"), 1, `${what}: nothing written`);
          assert.deepEqual(
            stored.get("data"),
            { secret, ...(policy === "members" ? { members: [uidOf.member] } : {}) },
            `${what}: nothing written`,
          );
        }
      }
    }
  }
  // Every event published by now (the setup's creates, the allowed writes and deletes);
  // a refused request published nothing.
  await (sync.definition as { outbox?: { drain(): Promise<void> } }).outbox?.drain();
  await waitFor("the setup's events", () =>
    events.payloads<RealtimeUpdate>().length >= count ? true : undefined,
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  for (const { target } of refused) {
    const published = events
      .payloads<RealtimeUpdate>()
      .filter(
        (event) => event.collection === target.collection && event.document === target.document,
      );
    assert.deepEqual(
      published.map((event) => [event.op, event.version, event.created_by]),
      [["create", 1, target.collection === "flags" ? uidOf.admin : uidOf.owner]],
      `${target.collection}/${target.document}: only its creation was published`,
    );
  }
  assert.ok(refused.length > 50, `${refused.length} refusals were checked`);
});

test("a member may not change the members list, and nobody creates in an admin-only collection but admins", async () => {
  const sync = services.sync;
  const post = (actor: Actor, body: unknown) =>
    fetch(`${sync.url}/v1/sync`, {
      method: "POST",
      headers: { ...json, ...bearer(actor) },
      body: JSON.stringify(body),
    });
  const project = { collection: "projects", document: "team" };
  assert.equal(
    (await post("owner", { ...project, data: { members: [uidOf.member] } })).status,
    200,
  );
  const grab = await post("member", { ...project, data: { members: [uidOf.member, uidOf.other] } });
  assert.equal(grab.status, 403);
  assert.match(await grab.text(), /only the owner of projects\/team changes data\.members/);
  const same = await post("member", { ...project, data: { members: [uidOf.member], note: 1 } });
  assert.equal(same.status, 200, "a member's write that keeps the list is a write");
  const shared = await post("owner", {
    ...project,
    data: { members: [uidOf.member, uidOf.other] },
  });
  assert.equal(shared.status, 200);
  const read = await fetch(`${sync.url}/v1/documents/projects/team`, { headers: bearer("other") });
  assert.equal(read.status, 200, "a new member reads the document");
  const removed = await post("owner", { ...project, data: { members: [] } });
  assert.equal(removed.status, 200);
  const gone = await fetch(`${sync.url}/v1/documents/projects/team`, { headers: bearer("member") });
  assert.equal(gone.status, 404, "a removed member no longer reads it");

  const flag = await post("other", { collection: "flags", document: "new", data: { on: true } });
  assert.equal(flag.status, 403);
  assert.equal(
    (await post("admin", { collection: "flags", document: "new", data: { on: true } })).status,
    200,
  );
});

test("each caller's feed holds exactly the documents it may read", async () => {
  const sync = services.sync;
  const db = sync.context.firestore;
  for (const policy of Object.keys(collectionOf) as Policy[]) {
    const collection = collectionOf[policy];
    const stored = await db.collection(collection).get();
    for (const actor of ["owner", "member", "other", "admin"] as const) {
      const uid = uidOf[actor];
      const response = await fetch(`${sync.url}/v1/changes?collection=${collection}&limit=1000`, {
        headers: bearer(actor),
      });
      if (policy === "admin-only" && actor !== "admin") {
        assert.equal(response.status, 403, `${actor}'s feed of ${collection}`);
        continue;
      }
      assert.equal(response.status, 200);
      const { changes } = (await response.json()) as { changes: { document: string }[] };
      const mayRead = stored.docs
        .filter((doc) => {
          if (actor === "admin" || policy === "shared-read") return true;
          // A tombstone has no data; the matrix deleted documents created with mia as member,
          // and their members still learn of the delete.
          const members = doc.get("deleted")
            ? [uidOf.member]
            : ((doc.get("data.members") as string[] | undefined) ?? []);
          return doc.get("created_by") === uid || (policy === "members" && members.includes(uid));
        })
        .map((doc) => doc.id)
        .sort();
      assert.ok(mayRead.length > 0 || actor !== "owner", `${collection} has documents to see`);
      assert.deepEqual(
        changes.map((change) => change.document).sort(),
        mayRead,
        `${actor}'s feed of ${collection}`,
      );
    }
  }
});
