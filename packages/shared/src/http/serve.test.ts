import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const fixture = fileURLToPath(new URL("../testing/slow-service.ts", import.meta.url));

async function startFixture(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; port: number; logs: string[] }> {
  const child = spawn(process.execPath, ["--conditions=source", fixture], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const logs: string[] = [];
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`fixture exited with ${code}`)));
    lines.on("line", (line) => {
      logs.push(line);
      const entry = JSON.parse(line) as { message: string; port?: number };
      if (entry.message === "listening" && entry.port) resolve(entry.port);
    });
  });
  return { child, port, logs };
}

test("SIGTERM lets an in-flight request finish, refuses new ones, then exits 0", async () => {
  const { child, port, logs } = await startFixture({ SLOW_MS: "1000" });
  const inFlight = fetch(`http://127.0.0.1:${port}/slow`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill("SIGTERM");
  await new Promise((resolve) => setTimeout(resolve, 100));
  await assert.rejects(
    fetch(`http://127.0.0.1:${port}/healthz`),
    "a new connection is refused while draining",
  );
  const response = await inFlight;
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { finished: true });
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
  assert.ok(logs.some((line) => line.includes("shutdown hook ran")));
});

test("a request outliving the grace period is cut off and the process still exits", async () => {
  const { child, port } = await startFixture({ SLOW_MS: "5000", GRACE_MS: "300" });
  const inFlight = fetch(`http://127.0.0.1:${port}/slow`).then(
    () => "answered",
    () => "cut off",
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
  assert.equal(await inFlight, "cut off");
});
