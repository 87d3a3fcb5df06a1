import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { AccessRules, serve } from "@syncstack/shared";
import { openSse, type SseStream } from "./testing/sse.ts";
import { startSync } from "./testing/sync-fixture.ts";

const rules = new AccessRules({ posts: { policy: "shared-read" } });

type Sync = Awaited<ReturnType<typeof startSync>>;
let sync: Sync;
const opened: SseStream[] = [];

before(async () => {
  sync = await startSync({ rules, env: { STREAM_MAX_CATCHUPS: "2" } });
  await sync.resetFirestore();
});
after(async () => {
  for (const stream of opened) stream.close();
  await sync.close();
});

async function open(instance: Sync, uid: string, port?: number): Promise<SseStream> {
  const base = port === undefined ? instance.url : `http://127.0.0.1:${port}`;
  const stream = await openSse(`${base}/v1/changes?collection=posts&limit=2`, {
    authorization: `Bearer ${instance.token(uid)}`,
  });
  opened.push(stream);
  return stream;
}

async function write(document: string, n: number): Promise<void> {
  const response = await sync.post("/v1/sync", { collection: "posts", document, data: { n } });
  assert.equal(response.status, 200, await response.text());
}

describe("a reconnect storm of change streams", () => {
  test("runs at most STREAM_MAX_CATCHUPS catch-ups at once, and every stream still gets its data", async () => {
    for (let n = 0; n < 6; n++) await write(`p${n}`, n);
    // Ten streams at once, each catching up three pages of two documents.
    const streams = await Promise.all(
      Array.from({ length: 10 }, (_, n) => open(sync, `reader-${n}`)),
    );
    for (const stream of streams) assert.equal(stream.status, 200);
    const expected = ["p0", "p1", "p2", "p3", "p4", "p5"];
    for (const stream of streams) {
      const changes = await stream.waitForChanges(6, 20_000);
      assert.deepEqual(
        changes.map((change) => change.item.document),
        expected,
      );
    }
    const { running, waiting, peak } = sync.definition.streams.catchUps;
    assert.equal(running, 0);
    assert.equal(waiting, 0);
    assert.ok(peak.running <= 2, `${peak.running} catch-ups ran at once, over the cap of 2`);
    assert.equal(peak.running, 2, "the cap was reached");
    assert.ok(peak.waiting >= 1, "streams waited for a slot");
    // Live after catch-up, every stream.
    await write("live", 6);
    for (const stream of streams) {
      const changes = await stream.waitForChanges(7, 20_000);
      assert.equal(changes.at(-1)?.item.document, "live");
    }
  });

  test("tells each client of a draining instance a random wait of 1-5 s", async () => {
    const instance = await startSync({ rules, projectId: sync.projectId, unsubscribed: true });
    const served = await serve(instance.app, {
      port: 0,
      logger: instance.context.logger,
      graceMs: 10_000,
      onDrain: () => instance.definition.streams.drain(),
    });
    try {
      const streams = await Promise.all(
        Array.from({ length: 8 }, (_, n) => open(instance, `drained-${n}`, served.port)),
      );
      for (const stream of streams) await stream.waitForEvent((event) => event.retry !== undefined);
      await served.shutdown();
      const waits: number[] = [];
      for (const stream of streams) {
        await stream.ended;
        const end = stream.events.at(-1);
        assert.equal(end?.event, "end");
        const { reason, retry_ms } = JSON.parse(end?.data ?? "") as {
          reason: string;
          retry_ms: number;
        };
        assert.equal(reason, "shutdown");
        assert.ok(retry_ms >= 1_000 && retry_ms < 5_000, `retry_ms ${retry_ms} is within 1-5 s`);
        waits.push(retry_ms);
      }
      assert.ok(new Set(waits).size > 1, `the waits are spread, not all ${waits[0]} ms`);
    } finally {
      await instance.close();
    }
  });
});
