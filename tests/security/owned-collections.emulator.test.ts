// Collections the services own cannot be reached through the sync ingress, however their
// name is dressed up: path tricks, encoded slashes, case, Unicode lookalikes, invisibles.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { collectionNames } from "@syncstack/shared";
import { emulatorIdToken, testProjectId } from "@syncstack/shared/testing";
import {
  closeServices,
  type ServiceUnderTest,
  startServices,
} from "../harness/services-under-test.ts";

const projectId = testProjectId();
const token = emulatorIdToken(projectId, "mallory", { admin: true });
let services: Awaited<ReturnType<typeof startServices>>;
let sync: ServiceUnderTest;

before(async () => {
  services = await startServices(projectId);
  sync = services.sync;
});
after(() => closeServices(services));

const cyrillic: Record<string, string> = { a: "а", c: "с", e: "е", o: "о", p: "р", s: "ѕ", x: "х" };

/** Ways to name `owned` that must not reach it or a collection mistaken for it. */
function disguises(owned: string): string[] {
  const fullwidth = [...owned]
    .map((char) => String.fromCodePoint((char.codePointAt(0) ?? 0) + 0xfee0))
    .join("");
  return [
    owned,
    `${owned}/../x`,
    `x/../${owned}`,
    `./${owned}`,
    `${owned}/`,
    `${owned}%2Fx`,
    `${owned}%2fx`,
    `x%2F${owned}`,
    encodeURIComponent(owned).replace(/[a-z]/, (char) => `%${char.charCodeAt(0).toString(16)}`),
    owned.toUpperCase(),
    owned[0]?.toUpperCase() + owned.slice(1),
    fullwidth,
    [...owned].map((char) => cyrillic[char] ?? char).join(""),
    `${owned.slice(0, 2)}\u200b${owned.slice(2)}`,
    `\u202e${owned}`,
    `${owned}\u00a0`,
    `${owned}\u0000`,
    `_${owned}`,
  ];
}

// The collections registry names the owned collections and the internal ones alike.
const everyOwned = [...collectionNames()];

test("writes, batches and change feeds of owned collections in disguise are refused and write nothing", async () => {
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${sync.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  for (const owned of everyOwned) {
    for (const collection of disguises(owned)) {
      const change = { collection, document: "d", data: { pwned: true } };
      const what = `${JSON.stringify(collection)} (${owned})`;
      const single = await call("POST", "/v1/sync", change);
      assert.ok([400, 403].includes(single.status), `POST /v1/sync ${what}: ${single.status}`);
      const { error } = (await single.json()) as { error: { message: string } };
      assert.match(error.message, /collection/, what);
      const batch = (await (
        await call("POST", "/v1/sync:batch", { changes: [change] })
      ).json()) as {
        results: { status: number }[];
      };
      assert.ok([400, 403].includes(batch.results[0]?.status ?? 0), `batch ${what}`);
      const feed = await call("GET", `/v1/changes?collection=${encodeURIComponent(collection)}`);
      assert.ok([400, 403].includes(feed.status), `GET /v1/changes ${what}: ${feed.status}`);
    }
  }
  const collections = await sync.context.firestore.listCollections();
  assert.deepEqual(
    collections.map((c) => c.id).filter((id) => !id.startsWith("_")),
    [],
    "no collection was created",
  );
});

test("ordinary collections with underscores, digits and other scripts are still writable", async () => {
  for (const collection of ["notes", "user_notes", "files2", "notes_users", "заметки", "ノート"]) {
    const response = await fetch(`${sync.url}/v1/sync`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ collection, document: "d", data: { ok: true } }),
    });
    assert.equal(response.status, 200, collection);
  }
});
