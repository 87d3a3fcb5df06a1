// The Firebase Auth emulator's REST API (the Identity Toolkit API), as an app's SDK calls it.

/** A signed-in user: its uid and a fresh ID token the services accept. */
export type SignedIn = { uid: string; idToken: string; email: string };

/** Any API key does: the emulator accepts every key and serves its one project. */
const apiKey = "any";

async function call(
  host: string,
  method: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const url = `http://${host}/identitytoolkit.googleapis.com/v1/accounts:${method}?key=${apiKey}`;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown> & {
    error?: { message?: string };
  };
  if (!response.ok) {
    throw new Error(
      `Auth emulator accounts:${method} answered ${response.status}: ${answer.error?.message ?? JSON.stringify(answer)}`,
    );
  }
  return answer;
}

function signedIn(answer: Record<string, unknown>): SignedIn {
  return {
    uid: String(answer.localId),
    idToken: String(answer.idToken),
    email: String(answer.email),
  };
}

/** Creates an email/password account (`accounts:signUp`) and signs it in. */
export async function signUp(host: string, email: string, password: string): Promise<SignedIn> {
  return signedIn(await call(host, "signUp", { email, password, returnSecureToken: true }));
}

/** Signs an existing account in (`accounts:signInWithPassword`): its token has its claims. */
export async function signIn(host: string, email: string, password: string): Promise<SignedIn> {
  return signedIn(
    await call(host, "signInWithPassword", { email, password, returnSecureToken: true }),
  );
}

/**
 * Sets a user's custom claims (`accounts:update` with `customAttributes`, as the Admin SDK's
 * setCustomUserClaims does); tokens issued after it carry them. `Bearer owner` is the
 * emulator's administrator credential.
 */
export async function setCustomClaims(
  host: string,
  uid: string,
  claims: Record<string, unknown>,
): Promise<void> {
  await call(
    host,
    "update",
    { localId: uid, customAttributes: JSON.stringify(claims) },
    { authorization: "Bearer owner" },
  );
}
