import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { freePort, repoRoot } from "@syncstack/local-stack";
import { packageConsole, packageService } from "./package-service.ts";
import { consoleAppDir } from "./terraform/console.ts";

test("the Dockerfile builds with the project's Node and pnpm versions", async () => {
  const dockerfile = await readFile(join(repoRoot, "Dockerfile"), "utf8");
  const node = (await readFile(join(repoRoot, ".node-version"), "utf8")).trim();
  const { packageManager } = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8"));
  assert.match(dockerfile, new RegExp(`^ARG NODE_VERSION=${node}$`, "m"));
  assert.match(
    dockerfile,
    new RegExp(`^ARG PNPM_VERSION=${packageManager.replace("pnpm@", "")}$`, "m"),
  );
  assert.match(dockerfile, /^FROM gcr\.io\/distroless\/nodejs24-debian12:nonroot AS service$/m);
});

test("a packaged service runs alone with production dependencies, answers /healthz and drains on SIGTERM", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "syncstack-files-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // files carries the native dependency (sharp), the likeliest to break when packaged.
  await packageService("files", dir);
  assert.ok(existsSync(join(dir, "dist", "main.js")), "dist/main.js");
  assert.ok(!existsSync(join(dir, "src")), "no sources");
  for (const dev of ["typescript", "@types/node", "@types/express"]) {
    assert.ok(!existsSync(join(dir, "node_modules", dev)), `no dev dependency ${dev}`);
  }
  // The project's patches (patches/, pnpm-workspace.yaml's patchedDependencies) ship too.
  const firestoreUtil = join(dir, "node_modules/@google-cloud/firestore/build/src/util.js");
  assert.match(await readFile(firestoreUtil, "utf8"), /function gaxFallback\(\)/);
  const port = await freePort();
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      METADATA_SERVER_DETECTION: "none",
      // Nothing is reached: /healthz needs no backend.
      PUBSUB_EMULATOR_HOST: "127.0.0.1:9",
      FIRESTORE_EMULATOR_HOST: "127.0.0.1:9",
      STORAGE_EMULATOR_HOST: "http://127.0.0.1:9",
    },
  });
  let output = "";
  for (const stream of [child.stdout, child.stderr])
    stream.on("data", (chunk) => (output += chunk));
  const exited = once(child, "exit");
  t.after(() => child.kill("SIGKILL"));
  let health: Response | undefined;
  for (let i = 0; i < 150 && !health; i++) {
    health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
    if (!health) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(health?.status, 200, output);
  assert.deepEqual(await health?.json(), { status: "ok", service: "files" });
  child.kill("SIGTERM");
  const [code] = await exited;
  assert.equal(code, 0, output);
});

test("the packaged console runs alone: its built pages, /healthz, and its API only for a token", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "syncstack-console-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await packageConsole(dir);
  assert.ok(existsSync(join(dir, "dist", "main.js")), "dist/main.js");
  assert.ok(existsSync(join(dir, consoleAppDir, "index.html")), "the built app");
  assert.ok(!existsSync(join(dir, "src")), "no sources");
  for (const dev of ["vite", "typescript", "@syncstack/local-stack"]) {
    assert.ok(!existsSync(join(dir, "node_modules", dev)), `no dev dependency ${dev}`);
  }
  const port = await freePort();
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      METADATA_SERVER_DETECTION: "none",
      GOOGLE_CLOUD_PROJECT: "demo-console-package",
      CONSOLE_APP_DIR: consoleAppDir,
      BACKUP_URL: "http://127.0.0.1:9",
      ANALYTICS_URL: "http://127.0.0.1:9",
      FIREBASE_API_KEY: "web-key",
      // Nothing is reached: /healthz, the pages and a refusal need no backend.
      PUBSUB_EMULATOR_HOST: "127.0.0.1:9",
      FIRESTORE_EMULATOR_HOST: "127.0.0.1:9",
    },
  });
  let output = "";
  for (const stream of [child.stdout, child.stderr])
    stream.on("data", (chunk) => (output += chunk));
  const exited = once(child, "exit");
  t.after(() => child.kill("SIGKILL"));
  const base = `http://127.0.0.1:${port}`;
  let health: Response | undefined;
  for (let i = 0; i < 150 && !health; i++) {
    health = await fetch(`${base}/healthz`).catch(() => undefined);
    if (!health) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(health?.status, 200, output);
  assert.deepEqual(await health?.json(), { status: "ok", service: "console" });
  for (const path of ["/", "/backups"]) {
    const page = await fetch(`${base}${path}`);
    assert.equal(page.status, 200, path);
    assert.match(await page.text(), /<div id="root"><\/div>/, path);
  }
  const config = (await (await fetch(`${base}/console-config.json`)).json()) as Record<
    string,
    unknown
  >;
  assert.equal(config.api_key, "web-key");
  assert.equal(config.auth_emulator_url, null);
  const refused = await fetch(`${base}/v1/console/backups`);
  assert.equal(refused.status, 401);
  child.kill("SIGTERM");
  const [code] = await exited;
  assert.equal(code, 0, output);
});
