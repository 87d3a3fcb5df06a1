// `./syncstack user add <email> <password> [--admin] [--name <display name>]`: signs a user up
// with the running stack's Firebase Auth emulator, as an app would, and announces it
// (`POST /v1/users`, which publishes user-created, so it gets its profile); prints its ID token.
// `./syncstack user token <email> <password>`: signs in again and prints a fresh ID token.
import { parseCommandLine, readStackFile, type StackFile, usageError } from "@syncstack/shared/cli";
import { setCustomClaims, signIn, signUp } from "./auth-emulator-api.ts";

const usage = `usage: ./syncstack user add <email> <password> [--admin] [--name <display name>]
       ./syncstack user token <email> <password>

add    signs the user up with the running stack's Firebase Auth emulator (found through
       .syncstack/stack.json, or $SYNCSTACK_STATE_DIR/stack.json), sets the claim admin: true
       with --admin, and announces the user with its own token (POST /v1/users: the
       user-created event gives it its profile); prints the ID token on stdout.
token  signs an existing user in and prints a fresh ID token (they last an hour).

  --admin         the custom claim admin: true (add only)
  --name <name>   the profile's display name (add only)
  -h, --help      this text`;

const fail: (message: string) => never = usageError("user", usage);
const { values, positionals } = parseCommandLine(
  {
    allowPositionals: true,
    options: {
      admin: { type: "boolean", default: false },
      name: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  },
  usage,
  fail,
);
const [action, email, password, ...extra] = positionals;
if (action !== "add" && action !== "token")
  fail(`unknown action ${action ?? "(none)"}: add or token`);
if (!email || !password) fail("an email and a password are needed");
if (extra.length > 0) fail(`unexpected argument ${extra[0]}`);
if (action === "token" && (values.admin || values.name !== undefined)) {
  fail("--admin and --name are for add");
}

let stack: StackFile;
try {
  stack = await readStackFile();
} catch (error) {
  fail((error as Error).message);
}
if (stack.auth === undefined) fail("the running stack has no Auth emulator: restart it");

try {
  if (action === "token") {
    process.stdout.write(`${(await signIn(stack.auth, email, password)).idToken}\n`);
  } else {
    let user = await signUp(stack.auth, email, password);
    if (values.admin) {
      await setCustomClaims(stack.auth, user.uid, { admin: true });
      user = await signIn(stack.auth, email, password);
    }
    const response = await fetch(`${stack.services.sync}/v1/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${user.idToken}`, "content-type": "application/json" },
      body: JSON.stringify({
        uid: user.uid,
        email: user.email,
        display_name: values.name ?? null,
        email_verified: false,
      }),
    });
    const answer = await response.text();
    if (response.status !== 202) {
      throw new Error(`POST /v1/users answered ${response.status}: ${answer}`);
    }
    process.stderr.write(
      `user: ${email} is uid ${user.uid}${values.admin ? " (admin)" : ""}; user-created published\n`,
    );
    process.stdout.write(`${user.idToken}\n`);
  }
} catch (error) {
  process.stderr.write(`user: ${(error as Error).message}\n`);
  process.exit(1);
}
