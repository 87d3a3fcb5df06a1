import {
  createClient,
  IndexedDbStorage,
  type SyncClient,
  type SyncDocument,
} from "@syncstack/client";
import type { User } from "firebase/auth";
import type { AppConfig } from "./config.ts";
import { h, toast } from "./dom.ts";
import { collection, isMine, noteCard, noteOf } from "./note-card.ts";

/** A signed-in session: its client (own IndexedDB database per uid) and the page bound to it. */
export interface NotesPage {
  element: HTMLElement;
  close(): Promise<void>;
}

const onlineKey = (uid: string) => `syncstack-notes:online:${uid}`;

/**
 * The notes of `user`: a composer, their own notes and those shared with them, the online
 * switch (remembered across reloads) and what the outbox and the feed are doing.
 */
export async function notesPage(
  user: User,
  config: AppConfig,
  onSignOut: () => void,
): Promise<NotesPage> {
  const online = localStorage.getItem(onlineKey(user.uid)) !== "false";
  const client: SyncClient = createClient({
    baseUrl: config.syncUrl,
    getIdToken: (forceRefresh) => user.getIdToken(forceRefresh),
    storage: new IndexedDbStorage(`syncstack-notes-${user.uid}`),
    pollIntervalMs: config.pollIntervalMs,
    online,
  });
  await client.ready;

  const editing = new Set<string>();
  const shareDrafts = new Map<string, string>();
  const cards = new Map<string, { key: string; element: HTMLElement }>();
  const mineList = h("ul", { class: "notes", "data-testid": "my-notes" });
  const sharedList = h("ul", { class: "notes", "data-testid": "shared-notes" });
  const emptyMine = h("p", { class: "muted empty" }, "No notes yet: write one above.");
  const emptyShared = h("p", { class: "muted empty" }, "Nothing is shared with you yet.");
  const status = h("span", { class: "status", "data-testid": "status" });
  const outbox = { state: "idle" };
  let feedState = "connecting";

  const showStatus = () => {
    const waiting = client.pending().length;
    status.dataset.pending = String(waiting);
    status.dataset.state = client.online ? outbox.state : "offline";
    const what =
      waiting === 0 ? "all saved" : `${waiting} change${waiting === 1 ? "" : "s"} waiting`;
    status.textContent = client.online
      ? `${outbox.state === "waiting" ? "retrying" : feedState === "streaming" ? "live" : "online"} · ${what}`
      : `offline · ${what}`;
  };

  let scheduled = false;
  const render = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      const docs = client.list(collection).sort(newestFirst);
      const mine: HTMLElement[] = [];
      const shared: HTMLElement[] = [];
      const seen = new Set<string>();
      // A card rebuilt while the user types in it (its share field: an acknowledgement or the
      // feed arriving) would take the focus with it and what they type next would go nowhere.
      const focused = document.activeElement;
      let refocus: { card: HTMLElement; field: HTMLElement } | undefined;
      for (const doc of docs) {
        seen.add(doc.id);
        // A card is rebuilt only when what it shows changed, and never while it is being
        // edited, so that what is typed survives acknowledgements and the feed.
        const key = editing.has(doc.id)
          ? "editing"
          : JSON.stringify([doc.data, doc.pending, doc.created_by]);
        let card = cards.get(doc.id);
        if (card?.key !== key) {
          const element = noteCard(client, doc, user.uid, editing, shareDrafts, render);
          if (focused instanceof HTMLElement && card?.element.contains(focused)) {
            refocus = { card: element, field: focused };
          }
          card = { key, element };
          cards.set(doc.id, card);
        }
        (isMine(doc, user.uid) ? mine : shared).push(card.element);
      }
      for (const id of cards.keys()) if (!seen.has(id)) cards.delete(id);
      mineList.replaceChildren(...mine);
      sharedList.replaceChildren(...shared);
      if (refocus) keepFocus(refocus.field, refocus.card);
      emptyMine.hidden = mine.length > 0;
      emptyShared.hidden = shared.length > 0;
      showStatus();
    });
  };

  const stops = [
    client.on("change", render),
    client.on("sync-state", (state) => {
      if (state.kind === "outbox") outbox.state = state.state;
      else feedState = state.state;
      showStatus();
    }),
    client.on("rejected", ({ change, message }) =>
      toast(`The server refused a change to "${change.id}": ${message}`, "error"),
    ),
    client.on("conflict", ({ change }) =>
      toast(`Note "${change.id}" changed elsewhere; your change was dropped.`, "error"),
    ),
  ];
  const stopFeed = client.subscribe(collection);

  const title = h("input", {
    placeholder: "Title",
    "data-testid": "new-title",
    "aria-label": "Title",
  });
  const body = h("textarea", {
    placeholder: "Write a note…",
    rows: "3",
    "data-testid": "new-body",
    "aria-label": "Text",
  });
  const composer = h(
    "form",
    {
      class: "card composer",
      onsubmit: (event) => {
        event.preventDefault();
        if (title.value.trim() === "" && body.value.trim() === "") return;
        const id = `${user.uid.slice(0, 8)}-${crypto.randomUUID()}`;
        void client
          .put(collection, id, {
            title: title.value,
            body: body.value,
            members: [],
            created: Date.now(),
          })
          .catch((error: Error) => toast(error.message, "error"));
        title.value = "";
        body.value = "";
        title.focus();
      },
    },
    title,
    body,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary", "data-testid": "add" }, "Add note"),
    ),
  );

  const onlineSwitch = h("input", {
    type: "checkbox",
    role: "switch",
    "data-testid": "online",
    onchange: () => {
      client.setOnline(onlineSwitch.checked);
      localStorage.setItem(onlineKey(user.uid), String(onlineSwitch.checked));
      showStatus();
    },
  });
  onlineSwitch.checked = online;

  const element = h(
    "div",
    { class: "page" },
    h(
      "header",
      { class: "bar" },
      h("h1", {}, "syncstack notes"),
      h(
        "div",
        { class: "me" },
        h("span", { "data-testid": "my-email" }, user.email ?? ""),
        h(
          "span",
          { class: "muted" },
          "uid ",
          h(
            "code",
            { "data-testid": "my-uid", title: "Share this with whoever shares notes with you" },
            user.uid,
          ),
        ),
      ),
      h("button", { class: "link", "data-testid": "sign-out", onclick: onSignOut }, "Sign out"),
    ),
    h("div", { class: "tools" }, h("label", { class: "switch" }, onlineSwitch, "Online"), status),
    composer,
    h("section", {}, h("h2", {}, "My notes"), emptyMine, mineList),
    h("section", {}, h("h2", {}, "Shared with me"), emptyShared, sharedList),
  );
  render();
  return {
    element,
    close: async () => {
      for (const stop of stops) stop();
      await stopFeed();
      await client.close();
    },
  };
}

/**
 * Focuses in `card` the field that stands where `field` stood in the card it replaced (the same
 * `data-testid`), with the same caret and selection; its text is the same (the share draft).
 */
function keepFocus(field: HTMLElement, card: HTMLElement): void {
  const name = field.dataset.testid;
  const next = name ? card.querySelector<HTMLElement>(`[data-testid="${name}"]`) : null;
  if (!next) return;
  next.focus();
  if (field instanceof HTMLInputElement && next instanceof HTMLInputElement) {
    next.setSelectionRange(
      field.selectionStart,
      field.selectionEnd,
      field.selectionDirection ?? undefined,
    );
  }
}

function newestFirst(a: SyncDocument, b: SyncDocument): number {
  return noteOf(b).created - noteOf(a).created || a.id.localeCompare(b.id);
}
