// `./syncstack token <uid> [--admin] [--project <id>]`: prints a Firebase Auth emulator ID token
// (unsigned) for the local stack, e.g. curl -H "authorization: Bearer $(./syncstack token alice)".
import { parseCommandLine, usageError } from "@syncstack/shared/cli";
import { emulatorIdToken } from "@syncstack/shared/testing";

const usage = `usage: ./syncstack token <uid> [--admin] [--project <id>]

Prints an unsigned Firebase Auth emulator ID token for user <uid>, which the local stack's
services accept (they run with FIREBASE_AUTH_EMULATOR_HOST set).

  --admin          add the claim admin: true (restoring backups, announcing other users)
  --project <id>   the token's audience (default $GOOGLE_CLOUD_PROJECT or demo-syncstack)
  -h, --help       this text`;

const fail: (message: string) => never = usageError("token", usage);
const { values, positionals } = parseCommandLine(
  {
    allowPositionals: true,
    options: {
      admin: { type: "boolean", default: false },
      project: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  },
  usage,
  fail,
);
// The project used to be the second positional argument; it still is accepted there.
const [uid, positionalProject, ...extra] = positionals;
if (!uid) fail("a user id is needed");
if (extra.length > 0 || (positionalProject && values.project)) {
  fail(`unexpected argument ${extra[0] ?? positionalProject}`);
}
const project =
  values.project ?? positionalProject ?? process.env.GOOGLE_CLOUD_PROJECT ?? "demo-syncstack";
process.stdout.write(`${emulatorIdToken(project, uid, values.admin ? { admin: true } : {})}\n`);
