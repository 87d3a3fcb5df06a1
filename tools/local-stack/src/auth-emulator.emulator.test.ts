import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { tokenVerifierFor } from "@syncstack/shared";
import { startAuthEmulator } from "./auth-emulator.ts";
import { setCustomClaims, signIn, signUp } from "./auth-emulator-api.ts";
import { freePort } from "./free-port.ts";
import { listeningAddresses, processesUsing } from "./proc-net.ts";

const scratch = await mkdtemp(join(tmpdir(), "auth-emulator-test-"));
after(() => rm(scratch, { recursive: true, force: true }));
const projectId = "demo-authtest";

describe("Firebase Auth emulator (real firebase-tools)", () => {
  test("its ID tokens and custom claims pass the services' verifier; stop leaves nothing", async (t) => {
    const port = await freePort();
    const workDir = join(scratch, "one");
    const started = Date.now();
    const emulator = await startAuthEmulator({ port, projectId, workDir });
    t.diagnostic(`Auth emulator ready in ${Date.now() - started} ms`);
    try {
      assert.equal(emulator.host, `127.0.0.1:${port}`);
      assert.deepEqual(await listeningAddresses(port), ["127.0.0.1"], "loopback only");
      const config = JSON.parse(await readFile(join(workDir, "firebase.json"), "utf8"));
      assert.equal(config.emulators.ui.enabled, false, "no Emulator UI (it would be downloaded)");

      // The services' own choice of verifier, as the local stack configures them.
      const verifierOf = (project: string) =>
        tokenVerifierFor({
          GOOGLE_CLOUD_PROJECT: project,
          FIREBASE_AUTH_EMULATOR_HOST: emulator.host,
          K_SERVICE: undefined,
        });
      const verify = verifierOf(projectId);
      const alice = await signUp(emulator.host, "alice@example.com", "secret-1");
      const user = await verify(alice.idToken);
      assert.equal(user.uid, alice.uid);
      assert.equal(user.claims.email, "alice@example.com");
      assert.equal(user.claims.admin, undefined);
      await assert.rejects(verifierOf("demo-other")(alice.idToken), {
        message: "the token's issuer must be https://securetoken.google.com/demo-other",
      });

      await setCustomClaims(emulator.host, alice.uid, { admin: true });
      const again = await signIn(emulator.host, "alice@example.com", "secret-1");
      assert.equal(again.uid, alice.uid);
      assert.equal((await verify(again.idToken)).claims.admin, true, "the new token has the claim");

      await assert.rejects(signUp(emulator.host, "alice@example.com", "secret-2"), {
        message: "Auth emulator accounts:signUp answered 400: EMAIL_EXISTS",
      });
      await assert.rejects(signIn(emulator.host, "alice@example.com", "wrong"), /INVALID_PASSWORD/);
    } finally {
      await emulator.stop();
    }
    assert.deepEqual(await listeningAddresses(port), [], `nothing listens on ${port}`);
    assert.deepEqual(await processesUsing([port]), [], "no process is left behind");
  });

  test("a port already taken fails with a message naming it", async () => {
    const blocker = createServer();
    const port = await freePort();
    blocker.listen(port, "127.0.0.1");
    await once(blocker, "listening");
    try {
      await assert.rejects(
        startAuthEmulator({ port, projectId, workDir: join(scratch, "two") }),
        new RegExp(`port ${port} \\(Auth emulator\\) is already in use`),
      );
    } finally {
      blocker.close();
    }
  });
});
