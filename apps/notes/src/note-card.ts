import type { SyncClient, SyncDocument } from "@syncstack/client";
import { h, toast } from "./dom.ts";

/** The fields of a note (`data` of a `notes` document). */
export interface Note {
  title: string;
  body: string;
  /** The uids the note is shared with (the collection's `members` policy). */
  members: string[];
  /** When it was made, in ms (for ordering). */
  created: number;
}

export const collection = "shared_notes";

/** A document's data as a note, whatever fields are missing. */
export function noteOf(doc: SyncDocument): Note {
  const data = doc.data;
  return {
    title: typeof data.title === "string" ? data.title : "",
    body: typeof data.body === "string" ? data.body : "",
    members: Array.isArray(data.members) ? data.members.filter((m) => typeof m === "string") : [],
    created: typeof data.created === "number" ? data.created : 0,
  };
}

/** Whether `uid` made the note (a note only written locally has no creator yet: it is ours). */
export function isMine(doc: SyncDocument, uid: string): boolean {
  return doc.created_by === null || doc.created_by === uid;
}

/**
 * One note: read mode (title, body, who it is shared with, edit / share / delete), or edit mode
 * while `editing` holds it. Members may edit; only the creator shares and deletes. A uid being
 * typed to share with is kept in `shareDrafts`, so a rebuilt card keeps it.
 */
export function noteCard(
  client: SyncClient,
  doc: SyncDocument,
  uid: string,
  editing: Set<string>,
  shareDrafts: Map<string, string>,
  rerender: () => void,
): HTMLElement {
  const note = noteOf(doc);
  const mine = isMine(doc, uid);
  const write = (data: Partial<Note>) =>
    client.put(collection, doc.id, data).catch((error: Error) => toast(error.message, "error"));
  const card = h("li", {
    class: `card note${doc.pending ? " pending" : ""}`,
    "data-testid": "note",
    "data-id": doc.id,
  });
  if (editing.has(doc.id)) {
    const title = h("input", {
      value: note.title,
      "data-testid": "edit-title",
      "aria-label": "Title",
    });
    const body = h("textarea", { rows: "4", "data-testid": "edit-body", "aria-label": "Text" });
    body.value = note.body;
    const close = () => {
      editing.delete(doc.id);
      rerender();
    };
    card.append(
      title,
      body,
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            class: "primary",
            "data-testid": "save",
            onclick: () => {
              void write({ title: title.value, body: body.value });
              close();
            },
          },
          "Save",
        ),
        h("button", { onclick: close }, "Cancel"),
      ),
    );
    return card;
  }
  const share = h("input", {
    placeholder: "a user's uid",
    "data-testid": "share-uid",
    "aria-label": "Share with uid",
    oninput: () => shareDrafts.set(doc.id, share.value),
  });
  share.value = shareDrafts.get(doc.id) ?? "";
  const addMember = () => {
    const other = share.value.trim();
    if (!/^[\w-]{1,128}$/.test(other)) toast("A uid is letters, digits, - and _.", "error");
    else if (other === uid) toast("That is your own uid.", "error");
    else if (note.members.includes(other)) toast("Already shared with that user.", "error");
    else {
      shareDrafts.delete(doc.id);
      void write({ members: [...note.members, other] });
    }
  };
  const parts = [
    h(
      "div",
      { class: "note-head" },
      h("h3", { "data-testid": "note-title" }, note.title || "Untitled"),
      doc.pending ? h("span", { class: "badge", "data-testid": "pending" }, "not synced") : null,
    ),
    h("p", { class: "body", "data-testid": "note-body" }, note.body),
    mine
      ? null
      : h("p", { class: "muted owner" }, "Shared by ", h("code", {}, doc.created_by ?? "")),
    note.members.length > 0
      ? h(
          "div",
          { class: "members", "data-testid": "members" },
          h("span", { class: "muted" }, "Shared with"),
          ...note.members.map((member) =>
            h(
              "span",
              { class: "chip" },
              member === uid ? "you" : h("code", {}, member),
              mine
                ? h(
                    "button",
                    {
                      class: "link",
                      title: "Stop sharing",
                      "aria-label": `Stop sharing with ${member}`,
                      onclick: () =>
                        void write({ members: note.members.filter((m) => m !== member) }),
                    },
                    "×",
                  )
                : null,
            ),
          ),
        )
      : null,
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          "data-testid": "edit",
          onclick: () => {
            editing.add(doc.id);
            rerender();
          },
        },
        "Edit",
      ),
      mine
        ? h(
            "button",
            {
              class: "danger",
              "data-testid": "delete",
              onclick: () =>
                void client
                  .delete(collection, doc.id)
                  .catch((error: Error) => toast(error.message, "error")),
            },
            "Delete",
          )
        : null,
      mine
        ? h(
            "form",
            {
              class: "share",
              onsubmit: (event) => {
                event.preventDefault();
                addMember();
              },
            },
            share,
            h("button", { type: "submit", "data-testid": "share" }, "Share"),
          )
        : null,
    ),
  ];
  card.append(...parts.filter((part) => part !== null));
  return card;
}
