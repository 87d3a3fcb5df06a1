// The demo notes app end to end: two users, each in a Chromium of their own, against a whole
// local stack (emulators, the Auth emulator, the services and the app's Vite server).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, test } from "node:test";
import { Firestore } from "@google-cloud/firestore";
import {
  chromiumPath,
  type RunningStack,
  type ScratchStack,
  signIn,
  startScratchStack,
} from "@syncstack/local-stack";
import { waitFor } from "@syncstack/shared/testing";
import { type BrowserUser, launchUser } from "./browser.ts";
import { NotesPage, type ShownNote } from "./notes-page.ts";

const projectId = "demo-notes-e2e";
const password = "secret-password";
let lines: string[] = [];
let scratch: ScratchStack | undefined;
let stack: RunningStack;
let db: Firestore;
const users: BrowserUser[] = [];
let alice: NotesPage;
let bob: NotesPage;
let bobUid: string;
let shared: string;
let gone: string;

before(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`Chromium is missing at ${chromiumPath}: run the tests with ./syncstack test`);
  }
  // This process talks to the stack's own emulators, not the test runner's.
  for (const name of ["PUBSUB_EMULATOR_HOST", "FIRESTORE_EMULATOR_HOST", "STORAGE_EMULATOR_HOST"])
    delete process.env[name];
  scratch = await startScratchStack({ projectId, parts: ["app"] });
  stack = scratch.stack;
  lines = scratch.lines;
  db = new Firestore({ projectId, host: stack.file.firestore, ssl: false });
  const [a, b] = await Promise.all([launchUser(), launchUser()]);
  users.push(a, b);
  alice = new NotesPage(await a.context.newPage(), "alice");
  bob = new NotesPage(await b.context.newPage(), "bob");
  for (const user of [alice, bob]) {
    user.page.setDefaultTimeout(15_000);
    user.page.on("console", (message) => {
      if (message.type() === "error") lines.push(`${user.name} console | ${message.text()}`);
    });
    user.page.on("pageerror", (error) => lines.push(`${user.name} page | ${error.message}`));
  }
});

after(async () => {
  await Promise.allSettled(users.map((user) => user.close()));
  await db?.terminate();
  await scratch?.stop();
});

/** A failing step's message carries the stack's last lines. */
async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // What each user saw when it failed, kept beside the step's screenshots.
    await Promise.allSettled([alice, bob].map((user) => user?.screenshot(`failed-${what}`)));
    const output = lines.slice(-40).join("\n");
    throw new Error(`${what}: ${(error as Error).message}\n-- last output:\n${output}`, {
      cause: error,
    });
  }
}

/** What alice has shared with bob, as her page shows it, in the same order as his. */
async function sharedByAlice(): Promise<ShownNote[]> {
  const mine = await alice.page
    .getByTestId("my-notes")
    .getByTestId("note")
    .filter({ has: alice.page.getByTestId("members").getByText(bobUid) })
    .evaluateAll((cards) => cards.map((card) => card.getAttribute("data-id") ?? ""));
  return (await alice.notes("my-notes")).filter((note) => mine.includes(note.id));
}

async function bobMatchesAlice(timeoutMs = 20_000): Promise<ShownNote[]> {
  const expected = await sharedByAlice();
  return waitFor(
    "bob's shared view to equal alice's shared notes",
    async () => {
      const seen = await bob.notes("shared-notes");
      return JSON.stringify(seen) === JSON.stringify(expected) ? seen : undefined;
    },
    timeoutMs,
  );
}

test("alice and bob sign up in the app, each announced with a profile", async () => {
  await step("sign-up", async () => {
    await Promise.all([alice.page.goto(stack.file.app ?? ""), bob.page.goto(stack.file.app ?? "")]);
    await alice.screenshot("01-sign-in");
    const aliceUid = await alice.signUp("alice@example.com", password);
    bobUid = await bob.signUp("bob@example.com", password);
    assert.match(aliceUid, /^\w{20,}$/);
    assert.notEqual(aliceUid, bobUid);
    for (const [uid, email] of [
      [aliceUid, "alice@example.com"],
      [bobUid, "bob@example.com"],
    ] as const) {
      const profile = await waitFor(`${email}'s profile`, async () => {
        const snapshot = await db.collection("users").doc(uid).get();
        return snapshot.exists ? snapshot : undefined;
      });
      assert.equal(profile.get("email"), email);
    }
  });
});

test("a note alice shares appears in bob's shared view, and her edit reaches it within a second", async (t) => {
  await step("sharing", async () => {
    gone = await alice.add("Old list", "to be deleted offline");
    await alice.share(gone, bobUid);
    shared = await alice.add("Weekend plan", "hike on Saturday");
    await alice.share(shared, bobUid);
    await alice.settled();
    await bob.card(shared).waitFor({ timeout: 10_000 });
    await alice.edit(shared, "Weekend plan (v2)", "hike on Sunday instead");
    const edited = Date.now();
    await bob
      .card(shared)
      .getByTestId("note-title")
      .getByText("Weekend plan (v2)", { exact: true })
      .waitFor({ timeout: 10_000 });
    const ms = Date.now() - edited;
    t.diagnostic(`bob saw alice's edit ${ms} ms after she saved it`);
    await Promise.all([alice.screenshot("02-shared"), bob.screenshot("02-shared")]);
    assert.ok(ms < 1_000, `bob saw alice's edit after ${ms} ms`);
    assert.equal(
      await bob.card(shared).getByTestId("note-body").textContent(),
      "hike on Sunday instead",
    );
  });
});

test("what alice types to share a note survives its card being rebuilt under her", async () => {
  await step("typing through a rebuild", async () => {
    const note = await alice.add("Reading list", "two novels");
    await alice.settled();
    // Playwright's fill is two steps, focus-and-select and then the keys: a change of the note
    // arriving between them (the note's acknowledgement or its feed event on a slow machine)
    // rebuilt the card, the focus went with the old one, and the uid typed went nowhere.
    const field = alice.card(note).getByTestId("share-uid");
    await field.focus();
    const before = await field.elementHandle();
    await alice.page.keyboard.insertText(bobUid.slice(0, 6));
    const token = (await signIn(stack.file.auth, "alice@example.com", password)).idToken;
    const written = await fetch(`${stack.file.services.sync}/v1/sync`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        collection: "shared_notes",
        document: note,
        data: { body: "two novels, one play" },
      }),
    });
    assert.equal(written.status, 200, await written.text());
    await alice
      .card(note)
      .getByTestId("note-body")
      .getByText("two novels, one play", { exact: true })
      .waitFor();
    assert.equal(await before?.evaluate((element) => element.isConnected), false, "rebuilt");
    await alice.page.keyboard.insertText(bobUid.slice(6));
    assert.equal(await field.inputValue(), bobUid);
    await alice.page.keyboard.press("Enter");
    await alice.card(note).getByTestId("members").getByText(bobUid).waitFor();
  });
});

test("bob never sees alice's private notes, in the app or through the API", async () => {
  await step("private notes", async () => {
    const secret = await alice.add("Secret diary", "nobody else reads this");
    await alice.settled();
    // A later shared change that bob sees fences the feed: the private note was before it.
    await alice.edit(shared, "Weekend plan (v3)", "hike on Sunday instead");
    await bob.card(shared).getByTestId("note-title").getByText("Weekend plan (v3)").waitFor();
    assert.equal(await bob.card(secret).count(), 0);
    assert.doesNotMatch((await bob.page.textContent("body")) ?? "", /Secret diary/);
    const token = (await signIn(stack.file.auth, "bob@example.com", password)).idToken;
    const read = await fetch(`${stack.file.services.sync}/v1/documents/shared_notes/${secret}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(read.status, 404);
    const feed = await fetch(`${stack.file.services.sync}/v1/changes?collection=shared_notes`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const ids = ((await feed.json()) as { changes: { document: string }[] }).changes.map(
      (change) => change.document,
    );
    assert.ok(ids.includes(shared) && !ids.includes(secret), ids.join(", "));
  });
});

test("offline, alice makes 20 edits and a delete; online again, bob ends with exactly her state", async () => {
  await step("offline edits", async () => {
    await alice.setOnline(false);
    for (let i = 1; i <= 20; i++) {
      await alice.edit(shared, `Weekend plan (offline ${i})`, `edit ${i} of 20, made offline`);
    }
    await alice.delete(gone);
    assert.ok((await alice.pending()) >= 1, "changes wait in the outbox");
    await alice.page
      .getByTestId("status")
      .getByText(/^offline · \d+ changes? waiting$/)
      .waitFor();
    // Nothing has reached bob meanwhile.
    await bob.page.waitForTimeout(1_500);
    assert.equal(
      await bob.card(shared).getByTestId("note-title").textContent(),
      "Weekend plan (v3)",
    );
    assert.equal(await bob.card(gone).count(), 1);
    await Promise.all([alice.screenshot("03-offline"), bob.screenshot("03-offline")]);

    await alice.setOnline(true);
    await alice.settled();
    const seen = await bobMatchesAlice();
    assert.deepEqual(
      seen.find((note) => note.id === shared),
      { id: shared, title: "Weekend plan (offline 20)", body: "edit 20 of 20, made offline" },
    );
    assert.equal(await bob.card(gone).count(), 0);
    const stored = await db.collection("shared_notes").doc(gone).get();
    assert.equal(stored.get("deleted"), true, "the delete left a tombstone");
    await Promise.all([alice.screenshot("04-online"), bob.screenshot("04-online")]);
  });
});

test("a reload mid-queue loses nothing: offline edits survive it, and a reload while sending too", async () => {
  await step("reloads", async () => {
    await alice.setOnline(false);
    const added = await alice.add("Packing list", "boots, map");
    await alice.share(added, bobUid);
    for (let i = 1; i <= 5; i++) await alice.edit(shared, `Weekend plan (reload ${i})`, `r${i}`);
    const waiting = await alice.pending();
    assert.ok(waiting >= 1);
    await alice.page.reload();
    // The outbox and the offline switch are where they were (IndexedDB and localStorage).
    await alice
      .card(shared)
      .getByTestId("note-title")
      .getByText("Weekend plan (reload 5)")
      .waitFor();
    await alice.card(added).getByTestId("pending").waitFor();
    assert.equal(await alice.page.getByTestId("online").isChecked(), false);
    assert.equal(await alice.pending(), waiting);
    await alice.screenshot("05-reloaded-offline");
    // Online, and reloaded again at once: whatever was in flight is sent again under its key.
    await alice.setOnline(true);
    await alice.page.reload();
    await alice.settled();
    const seen = await bobMatchesAlice();
    assert.deepEqual(
      seen.map((note) => note.title),
      (await sharedByAlice()).map((note) => note.title),
    );
    assert.ok(seen.some((note) => note.id === added && note.body === "boots, map"));
    assert.ok(seen.some((note) => note.title === "Weekend plan (reload 5)"));
    const doc = await db.collection("shared_notes").doc(shared).get();
    assert.equal(doc.get("data.title"), "Weekend plan (reload 5)");
    await Promise.all([alice.screenshot("06-after-reload"), bob.screenshot("06-after-reload")]);
  });
});
