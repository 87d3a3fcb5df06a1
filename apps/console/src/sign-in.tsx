import { type Auth, signInWithEmailAndPassword } from "firebase/auth";
import { type FormEvent, useState } from "react";

/** Email and password against Firebase Auth (the emulator locally); only admins get further. */
export function SignIn({ auth, refused }: { auth: Auth; refused: string | null }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      await signInWithEmailAndPassword(
        auth,
        String(form.get("email")),
        String(form.get("password")),
      );
    } catch (failure) {
      const code = (failure as { code?: string }).code;
      setError(
        code === "auth/invalid-credential"
          ? "Wrong email or password."
          : (failure as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card sign-in" onSubmit={submit}>
      <h1>syncstack console</h1>
      <p className="muted">
        For admins: an account with the claim admin: true. On the local stack, make one with{" "}
        <code>./syncstack user add you@example.com a-password --admin</code>.
      </p>
      <label>
        Email
        <input name="email" type="email" autoComplete="username" required data-testid="email" />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          data-testid="password"
        />
      </label>
      {(error ?? refused) && (
        <p className="error" data-testid="auth-error">
          {error ?? refused}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy} data-testid="sign-in">
        Sign in
      </button>
    </form>
  );
}
