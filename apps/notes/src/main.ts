import { initializeApp } from "firebase/app";
import {
  connectAuthEmulator,
  getAuth,
  onAuthStateChanged,
  signOut,
  type User,
} from "firebase/auth";
import { type AppConfig, loadAppConfig } from "./config.ts";
import { h, toast } from "./dom.ts";
import { type NotesPage, notesPage } from "./notes-page.ts";
import { signInView } from "./sign-in.ts";

const root = document.querySelector<HTMLElement>("#app") as HTMLElement;
const unannouncedKey = (uid: string) => `syncstack-notes:unannounced:${uid}`;

/**
 * Tells the sync service about a new user (`POST /v1/users` with their own token), so that
 * `user-created` gives them a profile. Remembered until it succeeds: a later start tries again.
 */
async function announce(user: User, config: AppConfig): Promise<void> {
  const response = await fetch(`${config.syncUrl}/v1/users`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${await user.getIdToken()}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({
      uid: user.uid,
      email: user.email,
      display_name: user.displayName,
      photo_url: user.photoURL,
      email_verified: user.emailVerified,
    }),
  });
  if (!response.ok) {
    throw new Error(`announcing the account failed (${response.status}): ${await response.text()}`);
  }
  localStorage.removeItem(unannouncedKey(user.uid));
}

function start(config: AppConfig): void {
  const auth = getAuth(initializeApp(config.firebase));
  if (config.authEmulatorUrl)
    connectAuthEmulator(auth, config.authEmulatorUrl, { disableWarnings: true });
  let page: NotesPage | undefined;
  let session = 0;
  const announceQuietly = (user: User) =>
    announce(user, config).catch((error: Error) => {
      localStorage.setItem(unannouncedKey(user.uid), "1");
      toast(error.message, "error");
    });

  onAuthStateChanged(auth, async (user) => {
    const current = ++session;
    await page?.close();
    page = undefined;
    if (!user) {
      root.replaceChildren(signInView(auth, announceQuietly));
      return;
    }
    if (localStorage.getItem(unannouncedKey(user.uid))) void announceQuietly(user);
    const opened = await notesPage(user, config, () => void signOut(auth));
    // Signed out (or in as someone else) while the page was opening.
    if (current !== session) return void opened.close();
    page = opened;
    root.replaceChildren(opened.element);
  });
}

try {
  start(loadAppConfig(import.meta.env));
} catch (error) {
  root.replaceChildren(
    h(
      "div",
      { class: "card error" },
      h("h1", {}, "The app is misconfigured"),
      (error as Error).message,
    ),
  );
}
