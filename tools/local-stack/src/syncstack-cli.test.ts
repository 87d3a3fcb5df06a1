// The `./syncstack` entry point and the CLIs behind it, run as a new user runs them.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { promisify } from "node:util";
import { repoRoot } from "./paths.ts";

const exec = promisify(execFile);
const script = join(repoRoot, "syncstack");
const scratch = await mkdtemp(join(tmpdir(), "syncstack-cli-"));
after(() => rm(scratch, { recursive: true, force: true }));

type Run = { code: number; stdout: string; stderr: string };

async function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(command, args, { env, cwd: repoRoot, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe("./syncstack", () => {
  test("with no command it lists the commands and exits 2", async () => {
    const { code, stderr } = await run(script, []);
    assert.equal(code, 2);
    assert.match(stderr, /^usage: \.\/syncstack <command>/m);
    for (const command of ["up", "test", "token", "migrate", "restore", "dead-letters", "cloud"]) {
      assert.match(stderr, new RegExp(`^ {2}${command} `, "m"), `lists ${command}`);
    }
  });

  test("an unknown command is named, with the list, exit 2; --help lists them and exits 0", async () => {
    const unknown = await run(script, ["deploy-everything"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /^syncstack: unknown command deploy-everything$/m);
    assert.match(unknown.stderr, /^ {2}up /m);
    const help = await run(script, ["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^ {2}migrate /m);
  });

  test("the install check installs nothing on a second run", async () => {
    await run(script, ["--help"]);
    const second = await run(script, ["--help"]);
    assert.equal(second.code, 0);
    assert.equal(second.stderr, "", "no install output");
  });

  test("every command has --help, which prints its usage and exits 0", async () => {
    const commands = [
      "up",
      "trigger",
      "backup",
      "restore",
      "migrate",
      "token",
      "user",
      "dead-letters",
    ];
    commands.push("bench", "load", "cloud", "infra", "test", "check", "format", "build");
    const results = await Promise.all(commands.map((command) => run(script, [command, "--help"])));
    for (const [i, { code, stdout, stderr }] of results.entries()) {
      assert.equal(code, 0, `${commands[i]} --help: ${stderr}`);
      assert.match(stdout, /^usage: /, `${commands[i]} --help prints its usage`);
    }
    const tools = [
      "tools/local-stack/src/provision-cli.ts",
      "tools/scheduler/src/scheduler-cli.ts",
      "tools/deploy/src/package-cli.ts",
      "tools/storage-emulator/src/main.ts",
    ];
    const direct = await Promise.all(
      tools.map((file) => run(process.execPath, ["--conditions=source", file, "--help"])),
    );
    for (const [i, { code, stdout }] of direct.entries()) {
      assert.equal(code, 0, tools[i]);
      assert.match(stdout, /^usage: /, `${tools[i]} --help prints its usage`);
    }
  });
});

describe("./syncstack token", () => {
  const claims = (token: string) =>
    JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as Record<
      string,
      unknown
    >;

  test("--help prints the usage and mints no token", async () => {
    const { code, stdout } = await run(script, ["token", "--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /^usage: \.\/syncstack token <uid>/);
    assert.doesNotMatch(stdout, /^eyJ/m);
  });

  test("--admin adds the admin claim; without it there is none", async () => {
    const admin = await run(script, ["token", "alice", "--admin"]);
    assert.equal(admin.code, 0, admin.stderr);
    assert.equal(claims(admin.stdout.trim()).admin, true);
    assert.equal(claims(admin.stdout.trim()).sub, "alice");
    const plain = await run(script, ["token", "bob", "--project", "demo-other"]);
    assert.equal(claims(plain.stdout.trim()).admin, undefined);
    assert.equal(claims(plain.stdout.trim()).aud, "demo-other");
    const bad = await run(script, ["token", "--bogus"]);
    assert.equal(bad.code, 2);
  });
});

describe("CLIs with no running stack and no project", async () => {
  // Any connection attempt (fetch, gRPC, the metadata server) fails the run loudly.
  const noNetwork = join(scratch, "no-network.cjs");
  await writeFile(
    noNetwork,
    `const net = require("node:net");
net.Socket.prototype.connect = function () {
  process.stderr.write("network: a connection was attempted\\n");
  process.exit(99);
};
`,
  );
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SYNCSTACK_STATE_DIR: join(scratch, "no-stack"),
    GOOGLE_CLOUD_PROJECT: "my-real-project",
  };
  const clis: [string, string[]][] = [
    ["tools/migrate/src/migrate-cli.ts", ["--from", "notes", "--to", "copy"]],
    ["services/backup/src/restore-cli.ts", ["--backup", "b1"]],
    ["tools/local-stack/src/trigger-cli.ts", ["stats-tick"]],
    ["tools/local-stack/src/trigger-cli.ts", ["backup-requested"]],
    ["tools/dead-letters/src/dead-letters-cli.ts", ["list"]],
    ["tools/local-stack/src/provision-cli.ts", []],
    ["tools/local-stack/src/user-cli.ts", ["add", "a@example.com", "secret-1"]],
  ];

  test("refuse with exit 2, say what to do, and contact nothing", async () => {
    const results = await Promise.all(
      clis.map(([file, args]) =>
        run(process.execPath, ["--conditions=source", "--require", noNetwork, file, ...args], env),
      ),
    );
    for (const [i, { code, stderr }] of results.entries()) {
      const name = clis[i]?.join(" ");
      assert.equal(code, 2, `${name}: ${stderr}`);
      assert.match(stderr, /start (the stack with|it with) \.\/syncstack up/, name);
      assert.match(stderr, /stack\.json is missing/, name);
      assert.doesNotMatch(stderr, /network: a connection was attempted/, name);
    }
    for (const { stderr } of results.slice(0, 2)) assert.match(stderr, /or pass --project <id>/);
    // The guard works: a CLI that does connect (to an emulator named in the environment) trips it.
    const [file = "", args = []] = clis[0] ?? [];
    const connecting = await run(
      process.execPath,
      ["--conditions=source", "--require", noNetwork, file, ...args],
      {
        ...env,
        FIRESTORE_EMULATOR_HOST: "127.0.0.1:18999",
        PUBSUB_EMULATOR_HOST: "127.0.0.1:18998",
      },
    );
    assert.equal(connecting.code, 99, connecting.stderr);
  });
});
