import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Storage } from "@google-cloud/storage";

const main = fileURLToPath(new URL("./main.ts", import.meta.url));

test("the CLI serves on its port, keeps data in --data-dir and stops on SIGTERM", async () => {
  process.env.METADATA_SERVER_DETECTION = "none";
  delete process.env.STORAGE_EMULATOR_HOST;
  const dataDir = await mkdtemp(join(tmpdir(), "storage-cli-"));
  const child = spawn(
    process.execPath,
    ["--conditions=source", main, "--port", "0", "--data-dir", dataDir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const output: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, "exit");
  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        output.push(chunk.toString());
        const found = /listening on (http:\/\/[\d.:]+)/.exec(output.join(""));
        if (found?.[1]) resolve(found[1]);
      });
      child.once("exit", () => reject(new Error(`the CLI exited:\n${output.join("")}`)));
    });
    assert.equal((await fetch(`${url}/`)).status, 200);
    const storage = new Storage({ projectId: "demo-cli", apiEndpoint: url });
    const [bucket] = await storage.createBucket("cli-bucket");
    await bucket.file("x.txt").save("x");
    assert.ok(output.join("").includes('"method":"POST"'), "one JSON line per request");
  } finally {
    child.kill("SIGTERM");
    const [code] = await exited;
    await rm(dataDir, { recursive: true, force: true });
    assert.equal(code, 0, output.join(""));
  }
});

test("the CLI refuses a bad port with a message", async () => {
  const child = spawn(process.execPath, ["--conditions=source", main, "--port", "http"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = await once(child, "exit");
  assert.equal(code, 2);
  assert.match(stderr, /--port must be a port number/);
});
