import type { Agent } from "node:http";
import { Firestore } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import { realtimeUpdates } from "@syncstack/shared";
import { provisionTopology } from "@syncstack/shared/provision";
import { emulatorIdToken } from "@syncstack/shared/testing";
import {
  type ChangesPage,
  changesPageOf,
  chunks,
  type LatencySummary,
  summarize,
} from "./feed-pages.ts";
import { keepAliveAgent, requestJson } from "./http-client.ts";
import { fmt } from "./measure.ts";
import { startBenchService } from "./service-process.ts";
import type { BenchEnv } from "./sync-bench.ts";

const projectId = "demo-bench-feed";
const users = Number(process.env.BENCH_FEED_USERS ?? 1_000);
const perUser = Number(process.env.BENCH_FEED_PER_USER ?? 100);
/** Rounds of every request kind, interleaved so drift hits them alike. */
const samples = Number(process.env.BENCH_FEED_SAMPLES ?? 30);
/** The admin feed of the big collection is a scan on the emulator: fewer samples of it. */
const adminSamples = Number(process.env.BENCH_FEED_ADMIN_SAMPLES ?? 10);
const seedConcurrency = 4;
const smallSize = 100;
const pageSize = 100;
const smallPageSize = 10;
/** A tenth of the users in a collection of their own: how the feed's cost grows with size. */
const midUsers = Math.max(1, Math.round(users / 10));
const big = "bench_feed_big";
const mid = "bench_feed_mid";
const small = "bench_feed_small";

const uidOf = (user: number) => `feed-user-${user}`;
const payload = (n: number) => ({
  title: `note ${n}`,
  body: "x".repeat(200),
  tags: ["bench", "feed"],
  meta: { n, author: "bench" },
});

/**
 * `./syncstack bench feed`: latency of `GET /v1/changes` for one user of a collection of
 * `users * perUser` documents (100,000 from 1,000 users), written through `POST /v1/sync:batch`
 * with each user's token, next to the admin (unfiltered) feed of a 100-document collection at
 * the same limit in the same run; the same user feed in a collection a tenth the size, and the
 * admin feed of the big collection, show how the cost grows with the collection.
 */
export async function benchFeed(env: BenchEnv): Promise<string> {
  const db = new Firestore({ projectId, host: env.firestore, ssl: false });
  const pubsub = new PubSub({ projectId, apiEndpoint: env.pubsub, emulatorMode: true });
  await provisionTopology(pubsub, [realtimeUpdates], { serviceUrls: {}, nativePolicies: false });
  const service = await startBenchService("sync", {
    GOOGLE_CLOUD_PROJECT: projectId,
    PUBSUB_EMULATOR_HOST: env.pubsub,
    FIRESTORE_EMULATOR_HOST: env.firestore,
  });
  const port = Number(new URL(service.url).port);
  const agent = keepAliveAgent();
  const admin = emulatorIdToken(projectId, "feed-admin", { admin: true });
  try {
    await seedThroughApi(agent, port, small, ["feed-small-owner"], smallSize);
    const seedStarted = performance.now();
    const uids = Array.from({ length: users }, (_, user) => uidOf(user));
    await seedThroughApi(agent, port, big, uids, perUser);
    const seedSeconds = (performance.now() - seedStarted) / 1_000;
    await seedThroughApi(agent, port, mid, uids.slice(0, midUsers), perUser);
    const [stored] = await Promise.all([
      db.collection(big).count().get(),
      checkStoredShape(db, big, uidOf(0)),
    ]);
    if (stored.data().count !== users * perUser) {
      throw new Error(`${big} holds ${stored.data().count} documents, not ${users * perUser}`);
    }

    const feed = (collection: string, token: string, limit: number, since?: string) =>
      timedPage(agent, port, token, collection, limit, since);
    const measured = {
      small: [] as number[],
      first: [] as number[],
      midFirst: [] as number[],
      caughtUp: [] as number[],
      paging: [] as number[],
      pagingTotal: [] as number[],
      smallPaged: [] as number[],
      bigAdmin: [] as number[],
    };
    // Untimed rounds first: the emulator's JIT compiles each query shape on first use.
    for (let round = -3; round < samples; round++) {
      const user = ((round + 3) * 37) % users;
      const uid = uidOf(user);
      const token = emulatorIdToken(projectId, uid);
      const keep = round >= 0;
      const add = (into: number[], ms: number) => keep && into.push(ms);

      const smallPage = await feed(small, admin, pageSize);
      expectPage(smallPage.page, smallSize, false, `the admin feed of ${small}`);
      add(measured.small, smallPage.ms);

      const first = await feed(big, token, pageSize);
      expectPage(first.page, perUser, false, `${uid}'s first page`);
      if (first.page.changes.some((change) => change.created_by !== uid)) {
        throw new Error(`${uid}'s feed holds another user's document`);
      }
      add(measured.first, first.ms);

      const midUid = uidOf(user % midUsers);
      const midFirst = await feed(mid, emulatorIdToken(projectId, midUid), pageSize);
      expectPage(midFirst.page, perUser, false, `${midUid}'s first page of ${mid}`);
      add(measured.midFirst, midFirst.ms);

      const caughtUp = await feed(big, token, pageSize, first.page.next_cursor ?? undefined);
      expectPage(caughtUp.page, 0, false, `${uid}'s feed after its last cursor`);
      add(measured.caughtUp, caughtUp.ms);

      // The same 100 documents ten at a time, each page from the last one's cursor.
      const seen = new Set<string>();
      let since: string | undefined;
      let total = 0;
      for (let pages = 1; ; pages++) {
        const page = await feed(big, token, smallPageSize, since);
        total += page.ms;
        add(measured.paging, page.ms);
        for (const change of page.page.changes) seen.add(change.document);
        since = page.page.next_cursor ?? undefined;
        if (!page.page.has_more) break;
        if (pages > perUser) throw new Error(`${uid}'s feed does not end`);
      }
      if (seen.size !== perUser) {
        throw new Error(`paging through ${uid}'s feed gave ${seen.size} documents, not ${perUser}`);
      }
      add(measured.pagingTotal, total);

      const smallPaged = await feed(small, admin, smallPageSize);
      expectPage(smallPaged.page, smallPageSize, true, `the admin feed of ${small}, limit 10`);
      add(measured.smallPaged, smallPaged.ms);

      if (round < 0 || round % Math.max(1, Math.ceil(samples / adminSamples)) === 0) {
        const bigAdmin = await feed(big, admin, pageSize);
        expectPage(bigAdmin.page, pageSize, true, `the admin feed of ${big}`);
        add(measured.bigAdmin, bigAdmin.ms);
      }
    }
    return report(seedSeconds, {
      small: summarize(measured.small),
      first: summarize(measured.first),
      midFirst: summarize(measured.midFirst),
      caughtUp: summarize(measured.caughtUp),
      paging: summarize(measured.paging),
      pagingTotal: summarize(measured.pagingTotal),
      smallPaged: summarize(measured.smallPaged),
      bigAdmin: summarize(measured.bigAdmin),
    });
  } finally {
    agent.destroy();
    await service.process.stop(10_000);
    await pubsub.close();
    await db.terminate();
  }
}

/**
 * Writes `perUser` documents for each of `uids` through `POST /v1/sync:batch` with the user's
 * own token (one batch of up to 500 changes at a time per user, a few users at once).
 */
async function seedThroughApi(
  agent: Agent,
  port: number,
  collection: string,
  uids: readonly string[],
  perUser: number,
): Promise<void> {
  const queue = [...uids];
  const worker = async () => {
    for (let uid = queue.shift(); uid !== undefined; uid = queue.shift()) {
      const token = emulatorIdToken(projectId, uid);
      const changes = Array.from({ length: perUser }, (_, n) => ({
        collection,
        document: `${uid}-${n}`,
        data: payload(n),
        source: "bench",
      }));
      for (const batch of chunks(changes, 500)) {
        const { status, body } = await requestJson(agent, port, {
          method: "POST",
          path: "/v1/sync:batch",
          token,
          body: { changes: batch },
          read: true,
        });
        const failed = (body as { failed?: number } | undefined)?.failed;
        if (status !== 200 || failed !== 0) {
          throw new Error(`seeding ${collection} as ${uid}: status ${status}, ${failed} failed`);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: seedConcurrency }, worker));
}

/** Checks that a seeded document has the stored shape the feed's query relies on. */
async function checkStoredShape(db: Firestore, collection: string, uid: string): Promise<void> {
  const snapshot = await db.collection(collection).doc(`${uid}-0`).get();
  const readers = snapshot.get("readers") as Record<string, unknown> | undefined;
  if (snapshot.get("created_by") !== uid || !readers || Object.keys(readers).join() !== uid) {
    throw new Error(`${collection}/${uid}-0 is not stamped with its creator ${uid} as its reader`);
  }
}

async function timedPage(
  agent: Agent,
  port: number,
  token: string,
  collection: string,
  limit: number,
  since: string | undefined,
): Promise<{ ms: number; page: ChangesPage }> {
  const query = new URLSearchParams({ collection, limit: String(limit) });
  if (since !== undefined) query.set("since", since);
  const started = performance.now();
  const { status, body } = await requestJson(agent, port, {
    method: "GET",
    path: `/v1/changes?${query}`,
    token,
    read: true,
  });
  const ms = performance.now() - started;
  if (status !== 200) throw new Error(`GET /v1/changes?${query}: status ${status}`);
  return { ms, page: changesPageOf(body) };
}

function expectPage(page: ChangesPage, count: number, hasMore: boolean, what: string): void {
  if (page.changes.length !== count || page.has_more !== hasMore) {
    throw new Error(
      `${what}: ${page.changes.length} changes, has_more ${page.has_more}; expected ${count}, ${hasMore}`,
    );
  }
}

function report(
  seedSeconds: number,
  figures: Record<
    | "small"
    | "first"
    | "midFirst"
    | "caughtUp"
    | "paging"
    | "pagingTotal"
    | "smallPaged"
    | "bigAdmin",
    LatencySummary
  >,
): string {
  const docs = users * perUser;
  const vs = (summary: LatencySummary, baseline: LatencySummary) =>
    (summary.p50 / baseline.p50).toFixed(2);
  const line = (name: string, summary: LatencySummary, ratio: string) =>
    `| ${name} | ${summary.count} | ${fmt(summary.p50)} | ${fmt(summary.p99)} | ${ratio} |`;
  const { small: base, smallPaged: base10 } = figures;
  return [
    `feed benchmark: ${docs.toLocaleString("en-US")} documents from ${users.toLocaleString("en-US")} users (${perUser} each) written through POST /v1/sync:batch with each user's token in ${fmt(seedSeconds)} s (${fmt(docs / seedSeconds)} docs/s), and ${(midUsers * perUser).toLocaleString("en-US")} from ${midUsers} of them into another collection; ${samples} rounds of every request below, interleaved, each round a different user (after 3 untimed rounds)`,
    "",
    "| GET /v1/changes | samples | p50 ms | p99 ms | p50 vs the admin feed of 100 docs, same limit |",
    "| --- | ---: | ---: | ---: | ---: |",
    line(`admin, ${smallSize}-doc collection, limit=${pageSize} (baseline)`, base, "1.00"),
    line(
      `a user, ${(midUsers * perUser).toLocaleString("en-US")}-doc collection, first page, limit=${pageSize}`,
      figures.midFirst,
      vs(figures.midFirst, base),
    ),
    line(
      `a user, ${docs.toLocaleString("en-US")}-doc collection, first page, limit=${pageSize}`,
      figures.first,
      vs(figures.first, base),
    ),
    line(
      `the same user, caught up (since = that page's cursor), limit=${pageSize}`,
      figures.caughtUp,
      vs(figures.caughtUp, base),
    ),
    line(
      `admin, ${docs.toLocaleString("en-US")}-doc collection, first page, limit=${pageSize}`,
      figures.bigAdmin,
      vs(figures.bigAdmin, base),
    ),
    line(`admin, ${smallSize}-doc collection, limit=${smallPageSize} (baseline)`, base10, "1.00"),
    line(
      `a user, paging through their ${perUser} docs, limit=${smallPageSize}, each page`,
      figures.paging,
      vs(figures.paging, base10),
    ),
    `| the same, all ${perUser / smallPageSize} pages together | ${figures.pagingTotal.count} | ${fmt(figures.pagingTotal.p50)} | ${fmt(figures.pagingTotal.p99)} | - |`,
    "",
    `a user's first page / the admin feed of ${smallSize} docs (p50): ${vs(figures.first, base)}`,
  ].join("\n");
}
