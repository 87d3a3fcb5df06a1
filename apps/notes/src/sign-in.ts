import {
  type Auth,
  createUserWithEmailAndPassword,
  signInWithEmailAndPassword,
  type User,
} from "firebase/auth";
import { h } from "./dom.ts";

/** The sign-in card: email and password, to sign in or to sign up (then `onSignedUp`). */
export function signInView(auth: Auth, onSignedUp: (user: User) => Promise<void>): HTMLElement {
  const email = h("input", {
    type: "email",
    name: "email",
    autocomplete: "username",
    placeholder: "you@example.com",
    required: true,
    "data-testid": "email",
  });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    placeholder: "at least 6 characters",
    required: true,
    minlength: "6",
    "data-testid": "password",
  });
  const error = h("p", { class: "error", "data-testid": "auth-error" });
  const busy = (on: boolean) => {
    for (const button of form.querySelectorAll("button")) button.disabled = on;
  };
  const run = async (action: "in" | "up") => {
    if (!form.reportValidity()) return;
    error.textContent = "";
    busy(true);
    try {
      if (action === "in") await signInWithEmailAndPassword(auth, email.value, password.value);
      else {
        const { user } = await createUserWithEmailAndPassword(auth, email.value, password.value);
        await onSignedUp(user);
      }
    } catch (failure) {
      error.textContent = describeAuthError(failure);
      busy(false);
    }
  };
  const form = h(
    "form",
    {
      class: "card sign-in",
      onsubmit: (event) => {
        event.preventDefault();
        void run("in");
      },
    },
    h("h1", {}, "syncstack notes"),
    h("p", { class: "muted" }, "Notes that sync, work offline, and can be shared."),
    h("label", {}, "Email", email),
    h("label", {}, "Password", password),
    error,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "submit", class: "primary", "data-testid": "sign-in" }, "Sign in"),
      h(
        "button",
        { type: "button", "data-testid": "sign-up", onclick: () => void run("up") },
        "Create account",
      ),
    ),
  );
  return form;
}

/** Firebase's error codes as sentences a user can act on. */
function describeAuthError(error: unknown): string {
  const code = (error as { code?: string }).code ?? "";
  const messages: Record<string, string> = {
    "auth/email-already-in-use": "An account with this email exists: sign in instead.",
    "auth/invalid-credential": "Wrong email or password.",
    "auth/invalid-email": "That is not an email address.",
    "auth/weak-password": "The password needs at least 6 characters.",
    "auth/network-request-failed": "The sign-in service cannot be reached.",
  };
  return messages[code] ?? (error as Error).message ?? String(error);
}
