import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { checkEmulatorPrerequisites, startEmulator, stopAll } from "./emulators.ts";
import { freePort } from "./free-port.ts";
import { groupJitCpuMs } from "./process-group.ts";

/** Command lines of live processes that mention `--port=<port>`. */
async function processesOnPort(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir("/proc")).filter((name) => /^\d+$/.test(name))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.split("\0").includes(`--port=${port}`)) found.push(`${pid}: ${cmdline}`);
  }
  return found;
}

const documentPath = "v1/projects/demo-test/databases/(default)/documents/c/d";

describe("emulators (real emulators)", () => {
  test("the prerequisites are installed on this machine", () => {
    assert.deepEqual(checkEmulatorPrerequisites(), []);
  });

  test("reports java missing from PATH with the package to install", () => {
    const problems = checkEmulatorPrerequisites({ PATH: "/nonexistent" });
    assert.match(problems.join("\n"), /apt-get install openjdk-17-jre-headless/);
  });

  test("starts both emulators, answers Ok, and leaves no process behind", async () => {
    const [pubsubPort, firestorePort] = [await freePort(), await freePort()];
    const emulators = await Promise.all([
      startEmulator("pubsub", { port: pubsubPort }),
      startEmulator("firestore", { port: firestorePort }),
    ]);
    try {
      for (const emulator of emulators) {
        const response = await fetch(`http://${emulator.host}/`);
        assert.equal((await response.text()).trim(), "Ok");
      }
      assert.equal((await processesOnPort(firestorePort)).length, 2, "bash launcher and java");
      // The benchmarks wait for the JVMs' JIT compiler threads to go quiet: they are found.
      for (const emulator of emulators) {
        assert.ok(groupJitCpuMs(emulator.pid) > 0, `${emulator.kind} has compiled at start`);
      }
    } finally {
      await stopAll(emulators);
    }
    assert.deepEqual(await processesOnPort(pubsubPort), []);
    assert.deepEqual(await processesOnPort(firestorePort), []);
  });

  test("rejects with the exit code and output when the emulator dies before ready", async () => {
    const port = await freePort();
    await assert.rejects(startEmulator("firestore", { port, heapMiB: 1 }), (error: Error) => {
      assert.match(error.message, /exited with code \d+ before it was ready; last output:/);
      assert.match(error.message, /heap/i);
      return true;
    });
    assert.deepEqual(await processesOnPort(port), []);
  });

  test("keeps Firestore documents across a restart with the same dataDir", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "emulators-test-"));
    try {
      const first = await startEmulator("firestore", {
        port: await freePort(),
        dataDir,
        projectId: "demo-test",
      });
      try {
        const written = await fetch(`http://${first.host}/${documentPath}`, {
          method: "PATCH",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ fields: { a: { integerValue: "1" } } }),
        });
        assert.equal(written.status, 200);
      } finally {
        await first.stop();
      }
      const second = await startEmulator("firestore", {
        port: await freePort(),
        dataDir,
        projectId: "demo-test",
      });
      try {
        const read = await fetch(`http://${second.host}/${documentPath}`);
        assert.equal(read.status, 200);
        const body = (await read.json()) as { fields: unknown };
        assert.deepEqual(body.fields, { a: { integerValue: "1" } });
      } finally {
        await second.stop();
      }
      assert.equal((await readdir(dataDir)).length, 1, "older exports are removed");
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
