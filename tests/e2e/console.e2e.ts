// The ops console end to end: an admin in Chromium against a whole local stack (emulators, the
// Auth emulator, the services and the console server with the app from source). Every page
// shows the stack's real data; a dead letter replayed from the page is processed; a non-admin
// is refused. Screenshots go to test-results/console/.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { Firestore } from "@google-cloud/firestore";
import { PubSub } from "@google-cloud/pubsub";
import {
  chromiumPath,
  type RunningStack,
  type ScratchStack,
  setCustomClaims,
  signIn,
  signUp,
  startScratchStack,
} from "@syncstack/local-stack";
import {
  deadLetterAttributes,
  deadLetterTopicName,
  Publisher,
  serviceNames,
  statsTick,
  topics,
  userCreated,
} from "@syncstack/shared";
import { waitFor } from "@syncstack/shared/testing";
import { type BrowserUser, launchUser } from "./browser.ts";
import { ConsolePage } from "./console-page.ts";

const projectId = "demo-console-e2e";
const password = "secret-password";
let lines: string[] = [];
let scratch: ScratchStack | undefined;
let stack: RunningStack;
let db: Firestore;
let pubsub: PubSub;
let publisher: Publisher;
let browser: BrowserUser;
let admin: ConsolePage;
let consoleUrl: string;
let adminToken: string;
let aliceToken: string;
let aliceUid: string;

before(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is missing at ${chromiumPath}: run the tests with ./syncstack test`);
  }
  // This process talks to the stack's own emulators, not the test runner's.
  for (const name of ["PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"])
    delete process.env[name];
  scratch = await startScratchStack({
    projectId,
    parts: ["telemetry", "console"],
    serviceEnv: { LIVE_INTERVAL_MS: "500" },
  });
  stack = scratch.stack;
  lines = scratch.lines;
  consoleUrl = stack.file.console ?? "";
  db = new Firestore({ projectId, host: stack.file.firestore, ssl: false });
  pubsub = new PubSub({ projectId, apiEndpoint: stack.file.pubsub, emulatorMode: true });
  publisher = new Publisher(pubsub, { deadlineMs: 10_000 });

  const ops = await signUp(stack.file.auth, "ops@example.com", password);
  await setCustomClaims(stack.file.auth, ops.uid, { admin: true });
  adminToken = (await signIn(stack.file.auth, "ops@example.com", password)).idToken;
  const alice = await signUp(stack.file.auth, "alice@example.com", password);
  aliceToken = alice.idToken;
  aliceUid = alice.uid;

  browser = await launchUser();
  admin = new ConsolePage(await browser.context.newPage(), consoleUrl);
  admin.page.setDefaultTimeout(15_000);
  admin.page.on("console", (message) => {
    if (message.type() === "error") lines.push(`browser console | ${message.text()}`);
  });
  admin.page.on("pageerror", (error) => lines.push(`browser page | ${error.message}`));
});

after(async () => {
  await browser?.close();
  await publisher?.close();
  await pubsub?.close();
  await db?.terminate();
  await scratch?.stop();
});

/** A failing step keeps a screenshot and carries the stack's last lines. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    await admin?.screenshot(`failed-${what}`).catch(() => {});
    const output = lines.slice(-40).join("\n");
    throw new Error(`${what}: ${(error as Error).message}\n-- last output:\n${output}`, {
      cause: error,
    });
  }
}

async function sync(token: string, body: unknown, method = "POST", path = "/v1/sync") {
  const answer = await fetch(`${stack.file.services.sync}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  assert.ok(answer.ok, `${method} ${path} answered ${answer.status}: ${await answer.text()}`);
  return answer;
}

/** Calls the console's API as the admin. */
async function consoleApi(path: string, init: RequestInit = {}) {
  return fetch(`${consoleUrl}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(init.body ? { "content-type": "application/json" } : {}),
    },
  });
}

test("the console's API refuses a request without a token (401) and a non-admin (403), as JSON", async () => {
  await step("refusals", async () => {
    const anonymous = await fetch(`${consoleUrl}/v1/console/topology`);
    assert.equal(anonymous.status, 401);
    // The console server traces its requests like the services: its answers name their trace.
    assert.match(anonymous.headers.get("x-trace-id") ?? "", /^[0-9a-f]{32}$/);
    assert.equal(
      ((await anonymous.json()) as { error: { code: string } }).error.code,
      "unauthenticated",
    );
    for (const path of [
      "topology",
      "dead-letters",
      "stats",
      "collections",
      "live",
      "backups",
      "backups/config",
      "traces",
    ]) {
      const refused = await fetch(`${consoleUrl}/v1/console/${path}`, {
        headers: { authorization: `Bearer ${aliceToken}` },
      });
      assert.equal(refused.status, 403, path);
      // Its errors name their trace, as the services' do.
      assert.deepEqual(await refused.json(), {
        error: {
          code: "permission_denied",
          message: "the console is for admins: the token needs the claim admin: true",
          trace_id: refused.headers.get("x-trace-id"),
        },
      });
    }
    const bad = await fetch(`${consoleUrl}/v1/console/dead-letters?limit=0&colour=red`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      error: {
        code: "invalid_argument",
        message: "limit must be at least 1; unknown query parameter: colour",
        trace_id: bad.headers.get("x-trace-id"),
      },
    });
    const unknownField = await fetch(`${consoleUrl}/v1/console/dead-letters:replay`, {
      method: "POST",
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ ids: ["user-created/1"], everything: true }),
    });
    assert.equal(unknownField.status, 400);
    assert.match(
      ((await unknownField.json()) as { error: { message: string } }).error.message,
      /unknown field: everything/,
    );
  });
});

test("a non-admin who signs in to the console page is refused and signed out", async () => {
  await step("non-admin page", async () => {
    await admin.signIn("alice@example.com", password);
    await admin.page
      .getByTestId("auth-error")
      .getByText("the console is for admins: the token needs the claim admin: true")
      .waitFor();
    await admin.screenshot("01-non-admin-refused");
  });
});

test("the topology shows every topic and subscription, healthy services, and dead letters live", async () => {
  await step("topology", async () => {
    await admin.signIn("ops@example.com", password);
    await admin.page.getByTestId("live-state").getByText("live").waitFor();
    await admin.page.getByTestId("graph-topic").first().waitFor();
    assert.equal(await admin.page.getByTestId("graph-topic").count(), topics.length);
    const subscriptions = topics.flatMap((topic) => topic.subscriptions).length;
    assert.equal(await admin.page.getByTestId("subscription-row").count(), subscriptions);
    assert.equal(await admin.page.getByText("missing").count(), 0, "every subscription exists");
    const health = await admin.page.getByTestId("service-health").allTextContents();
    assert.deepEqual(
      health.map((line) => line.trim().split(" ").slice(0, 2).join(" ")),
      serviceNames.map((name) => `${name} ok`),
    );
    assert.match(await admin.topicLabel("user-created"), /^user-created0 dead/);
    // A payload that fails the schema: both consumers of user-created dead-letter it, and the
    // open page shows it through the live stream, without a reload.
    await pubsub.topic("user-created").publishMessage({
      data: Buffer.from(JSON.stringify({ uid: "u-bad", email: "not an email" })),
      attributes: { schema_version: "1" },
    });
    await waitFor(
      "the graph to show two dead letters",
      async () => ((await admin.topicLabel("user-created")).includes("2 dead") ? true : undefined),
      30_000,
    );
    const perSubscription = await admin.page
      .getByTestId("subscription-row")
      .filter({ hasText: "-user-created" })
      .getByTestId("dead-letter-count")
      .allTextContents();
    assert.deepEqual(perSubscription, ["1", "1"], "one dead letter from each consumer");
    await admin.screenshot("02-topology");
  });
});

test("dead letters: reasons, payloads and attributes; one replayed from the page is processed, one dropped", async () => {
  await step("dead letters", async () => {
    // A dead letter as a consumer writes it when it gives up on a message that was valid all
    // along (a dependency down for all five attempts, which take minutes to run out for real).
    await publisher.publishRaw(
      deadLetterTopicName(userCreated),
      Buffer.from(JSON.stringify({ uid: "u-replayed", email: "replayed@example.com" })),
      {
        schema_version: "1",
        origin: "console-e2e",
        [deadLetterAttributes.reason]: "gave up after 5 attempts: firestore.users.upsert timed out",
        [deadLetterAttributes.subscription]: `projects/${projectId}/subscriptions/sync-user-created`,
        [deadLetterAttributes.messageId]: "1",
        [deadLetterAttributes.attempt]: "5",
        [deadLetterAttributes.at]: new Date().toISOString(),
      },
    );
    await admin.open("dead-letters");
    const letters = admin.page.getByTestId("dead-letter");
    await waitFor("three dead letters on the page", async () =>
      (await letters.count()) === 3 ? true : undefined,
    );
    const reasons = await admin.page.getByTestId("reason").allTextContents();
    assert.equal(
      reasons.filter(
        (reason) => reason === "invalid user-created payload: email: Invalid email address",
      ).length,
      2,
      reasons.join(" | "),
    );
    const replayable = letters.filter({ hasText: "u-replayed" });
    const replayId = (await replayable.getAttribute("data-id")) ?? "";
    assert.match(replayId, /^user-created\/\S+$/);
    assert.match((await replayable.textContent()) ?? "", /origin\s*console-e2e/);
    assert.equal(
      await replayable.getByTestId("payload").textContent(),
      JSON.stringify({ uid: "u-replayed", email: "replayed@example.com" }),
    );
    await admin.screenshot("03-dead-letters");

    await replayable.getByTestId("choose").check();
    await admin.page.getByTestId("replay-chosen").click();
    await admin.page
      .getByTestId("dead-letter-message")
      .getByText(`Replayed 1: ${replayId}`)
      .waitFor();
    const profile = await waitFor("the replayed user's profile", async () => {
      const snapshot = await db.collection("users").doc("u-replayed").get();
      return snapshot.exists ? snapshot : undefined;
    });
    assert.equal(profile.get("email"), "replayed@example.com");
    assert.equal(await admin.deadLetter(replayId).count(), 0);

    const dropId = (await letters.first().getAttribute("data-id")) ?? "";
    admin.page.once("dialog", (dialog) => void dialog.accept());
    await admin.deadLetter(dropId).getByTestId("drop").click();
    await admin.page.getByTestId("dead-letter-message").getByText(`Dropped 1: ${dropId}`).waitFor();
    await waitFor("one dead letter left", async () =>
      (await letters.count()) === 1 ? true : undefined,
    );
    await admin.screenshot("04-dead-letters-after");
  });
});

test("analytics shows the latest tick's figures and the trend of the history", async () => {
  await step("analytics", async () => {
    await sync(aliceToken, { collection: "shared_notes", document: "n1", data: { title: "one" } });
    await sync(aliceToken, { collection: "shared_notes", document: "n2", data: { title: "two" } });
    await sync(aliceToken, undefined, "DELETE", "/v1/documents/shared_notes/n2");
    const at = Date.now();
    for (const minutesAgo of [2, 1]) {
      await publisher.publish(statsTick, {
        tick_at: new Date(at - minutesAgo * 60_000).toISOString(),
      });
    }
    const latest = await waitFor("two ticks in the history", async () => {
      const history = await db.collection("analytics_history").get();
      const daily = await db.doc("analytics/daily_stats").get();
      return history.size >= 2 && daily.exists ? daily : undefined;
    });
    await admin.open("analytics");
    const users = admin.page.getByTestId("figure-total_users");
    await users.waitFor();
    await waitFor("the page's figures to equal the latest tick's", async () =>
      (await users.textContent())?.startsWith(String(latest.get("total_users"))) ? true : undefined,
    );
    assert.match(
      (await admin.page.getByTestId("figure-total_documents").textContent()) ?? "",
      new RegExp(`^${latest.get("total_documents")}`),
    );
    await admin.page.getByTestId("trend-plot").locator("canvas").waitFor();
    await admin.screenshot("05-analytics");
  });
});

test("data shows the app collections read-only, with version, creator and tombstones", async () => {
  await step("data", async () => {
    await sync(aliceToken, { collection: "shared_notes", document: "n1", data: { title: "one!" } });
    await admin.open("data");
    const n1 = admin.page.locator('[data-testid="document"][data-id="n1"]');
    await n1.waitFor();
    assert.equal(await n1.getByTestId("version").textContent(), "2");
    assert.equal(await n1.getByTestId("creator").textContent(), aliceUid);
    assert.equal(await n1.getByTestId("state").textContent(), "live");
    const n2 = admin.page.locator('[data-testid="document"][data-id="n2"]');
    assert.match((await n2.getByTestId("state").textContent()) ?? "", /^tombstone since /);
    assert.match(
      (await admin.page
        .locator('[data-testid="collection"][data-name="shared_notes"]')
        .textContent()) ?? "",
      /\(2, 1 deleted, members\)/,
    );
    const owned = await fetch(`${consoleUrl}/v1/console/collections/users/documents`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(owned.status, 404);
    await admin.screenshot("06-data");
  });
});

test("the topology shows message and request rates and the outbox backlog from the collector's metrics", async () => {
  await step("topology rates", async () => {
    // The writes of the tests before were handled by analytics' realtime-updates consumer;
    // the services export their metrics every 5 s.
    await sync(aliceToken, { collection: "shared_notes", document: "n3", data: { title: "3" } });
    await admin.open("topology");
    const analyticsEdge = admin.page.locator(
      '[data-testid="edge-rate"][data-subscription="analytics-realtime-updates"]',
    );
    await waitFor(
      "the realtime-updates edge to show messages handled per minute",
      async () => {
        const text = (await analyticsEdge.textContent().catch(() => null)) ?? "";
        const rate = Number(/^(\d+)\/min/.exec(text)?.[1] ?? 0);
        return rate > 0 ? true : undefined;
      },
      30_000,
    );
    const syncNode = admin.page
      .getByTestId("graph-service")
      .filter({ hasText: /^sync/ })
      .first()
      .getByTestId("service-rate");
    assert.match((await syncNode.textContent()) ?? "", /^[1-9]\d* req\/min · outbox \d+$/);
    // The user-created consumers dead-lettered the bad payload of the topology test.
    const failedRow = admin.page
      .getByTestId("subscription-row")
      .filter({ hasText: "sync-user-created" });
    assert.ok(await failedRow.count(), "the sync-user-created row");
    await admin.screenshot("07-topology-rates");
  });
});

test("traces: a sync request's x-trace-id typed into the page shows its waterfall across sync and analytics", async () => {
  await step("traces", async () => {
    const answer = await sync(aliceToken, {
      collection: "shared_notes",
      document: "traced",
      data: { title: "follow me" },
    });
    const traceId = answer.headers.get("x-trace-id") ?? "";
    assert.match(traceId, /^[0-9a-f]{32}$/);
    await waitFor(
      "the collector to hold the trace's sync and analytics spans",
      async () => {
        const trace = await fetch(`${stack.file.telemetry}/api/traces/${traceId}`);
        if (!trace.ok) return undefined;
        const { spans } = (await trace.json()) as { spans: { service: string }[] };
        const services = new Set(spans.map((span) => span.service));
        return services.has("sync") && services.has("analytics") ? true : undefined;
      },
      30_000,
    );
    await admin.open("traces");
    await admin.page.getByTestId("recent-trace").first().waitFor();
    await admin.page.getByTestId("trace-search").fill(traceId);
    await admin.page.getByTestId("trace-open").click();
    await admin.page.getByTestId("waterfall").waitFor();
    const services = await admin.page
      .getByTestId("span")
      .evaluateAll((rows) => rows.map((row) => row.getAttribute("data-service")));
    assert.ok(services.includes("sync"), services.join(","));
    assert.ok(services.includes("analytics"), services.join(","));
    const text = (await admin.page.getByTestId("waterfall").textContent()) ?? "";
    assert.match(text, /POST \/v1\/sync/);
    assert.match(text, /realtime-updates process/);
    await admin.screenshot("08-traces");
    const bad = await consoleApi("/v1/console/traces/not-a-trace");
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as { error: { message: string } }).error.message,
      /32 hexadecimal/,
    );
  });
});

test("backups: one requested from the page completes live, is dry-run and restored into a prefix the Data page shows", async () => {
  await step("backups", async () => {
    const configured = await consoleApi("/v1/console/backups/config", {
      method: "PATCH",
      body: JSON.stringify({ enabled: true, collections: ["shared_notes"] }),
    });
    assert.equal(configured.status, 200, await configured.clone().text());
    await admin.open("backups");
    await admin.page.getByTestId("backup-config").getByText("enabled").waitFor();
    await admin.page.getByTestId("request-backup").click();
    const message = (await admin.page.getByTestId("backup-message").textContent()) ?? "";
    const id = /^Requested backup (\S+)$/.exec(message)?.[1] ?? "";
    assert.ok(id, message);
    const row = admin.page.locator(`[data-testid="backup"][data-id="${id}"]`);
    // No reload and no click: the live stream shows the record's change.
    await row.and(admin.page.locator('[data-status="completed"]')).waitFor({ timeout: 60_000 });
    const documents = await db.collection("shared_notes").count().get();
    assert.match(
      (await row.textContent()) ?? "",
      new RegExp(`shared_notes ${documents.data().count}`),
    );
    await admin.screenshot("09-backup-completed");

    await row.getByTestId("dry-run").click();
    const dryRun = admin.page.locator('[data-testid="restore-report"][data-dry-run="true"]');
    await dryRun.waitFor({ timeout: 60_000 });
    const dryRow = dryRun.locator('[data-testid="report-row"][data-collection="shared_notes"]');
    assert.equal(await dryRow.getByTestId("report-target").textContent(), "restored_shared_notes");
    assert.equal(
      await dryRow.getByTestId("report-new").textContent(),
      String(documents.data().count),
    );
    assert.equal((await db.collection("restored_shared_notes").count().get()).data().count, 0);
    await admin.screenshot("10-backup-dry-run");

    admin.page.once("dialog", (dialog) => void dialog.accept());
    await row.getByTestId("restore").click();
    await admin.page
      .locator('[data-testid="restore-report"][data-dry-run="false"]')
      .waitFor({ timeout: 60_000 });
    await admin.screenshot("11-backup-restored");

    await admin.open("data");
    const restored = admin.page.locator(
      '[data-testid="collection"][data-name="restored_shared_notes"]',
    );
    await restored.waitFor();
    await restored.click();
    await admin.page.locator('[data-testid="document"][data-id="n1"]').waitFor();
    await admin.screenshot("12-data-restored");
  });
});

test("each page shows its data when opened by its address", async () => {
  await step("pages", async () => {
    const ready = {
      "/": '[data-testid="graph-topic"]',
      "/dead-letters": '[data-testid="dead-letter"], [data-testid="no-dead-letters"]',
      "/analytics": '[data-testid="latest-figures"]',
      "/data": '[data-testid="document"]',
      "/backups": '[data-testid="backup"]',
      "/traces": '[data-testid="recent-trace"]',
    };
    for (const [path, selector] of Object.entries(ready)) {
      await admin.page.goto(`${consoleUrl}${path}`);
      await admin.page.locator(selector).first().waitFor();
    }
  });
});
