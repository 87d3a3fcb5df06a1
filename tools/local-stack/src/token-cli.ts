// `pnpm token <uid> [project]`: prints a Firebase Auth emulator ID token (unsigned) for the
// local stack, e.g. curl -H "authorization: Bearer $(./syncstack token alice)" ...
import { emulatorIdToken } from "@syncstack/shared/testing";

const [uid, project = process.env.GOOGLE_CLOUD_PROJECT ?? "demo-syncstack"] = process.argv.slice(2);
if (!uid) {
  process.stderr.write("usage: pnpm token <uid> [project]\n");
  process.exit(2);
}
process.stdout.write(`${emulatorIdToken(project, uid)}\n`);
