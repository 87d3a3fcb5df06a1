import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { prefixLines, startService } from "./process-group.ts";

/** Running, as opposed to gone or a zombie waiting for a slow init to reap it. */
const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(")") + 2));
  } catch {
    return false;
  }
};

describe("startService", () => {
  test("a parent killed with SIGKILL does not leave its services behind", async () => {
    const module = new URL("./process-group.ts", import.meta.url).href;
    // A parent that starts a long-running service, says its pid, and is then killed outright.
    const parent = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { startService } = await import(${JSON.stringify(module)});
         const s = startService("sleeper", { command: "sleep", args: ["60"], env: process.env, log: () => {} });
         console.log(s.pid); setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [line] = (await once(parent.stdout as NodeJS.ReadableStream, "data")) as [Buffer];
    const pid = Number(line.toString().trim());
    assert.ok(isAlive(pid), "the service runs");
    parent.kill("SIGKILL");
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(isAlive(pid), false, "the watchdog stopped the orphaned service");
  });

  test("sends every output line to log and reports the exit code", async () => {
    const lines: string[] = [];
    const service = startService("echo", {
      command: process.execPath,
      args: ["-e", "console.log('one\\ntwo'); console.error('three'); process.exit(3)"],
      env: process.env,
      log: (line) => lines.push(line),
    });
    assert.equal(await service.exited, 3);
    // The pipes may still hold output when the exit is reported.
    while (lines.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(lines.sort(), ["one", "three", "two"]);
  });

  test("stop() ends the children too, with SIGKILL when SIGTERM is ignored", async () => {
    const lines: string[] = [];
    // A parent that ignores SIGTERM and a grandchild that ignores it too.
    const script = `
      process.on("SIGTERM", () => {});
      const child = require("node:child_process").spawn(process.execPath,
        ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });
      console.log(child.pid);
      setInterval(() => {}, 1000);`;
    const service = startService("stubborn", {
      command: process.execPath,
      args: ["-e", script],
      env: process.env,
      log: (line) => lines.push(line),
    });
    while (lines.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const grandchild = Number(lines[0]);
    assert.ok(isAlive(grandchild));
    const started = Date.now();
    await service.stop(300);
    assert.ok(Date.now() - started < 3_000);
    assert.equal(await service.exited, null);
    assert.equal(isAlive(service.pid), false);
    assert.equal(isAlive(grandchild), false);
  });

  test("a command that cannot start resolves exited with 127 and says why", async () => {
    const lines: string[] = [];
    const service = startService("missing", {
      command: "/nonexistent/command",
      args: [],
      env: process.env,
      log: (line) => lines.push(line),
    });
    assert.equal(await service.exited, 127);
    assert.match(lines.join("\n"), /could not start \/nonexistent\/command: .*ENOENT/);
    await service.stop();
  });
});

describe("prefixLines", () => {
  test("pads the prefix and colors it only on a terminal", () => {
    const written: string[] = [];
    const out = { write: (text: string) => written.push(text), isTTY: false };
    prefixLines("api", 36, { width: 6, out })("hello");
    prefixLines("api", 36, { width: 6, out: { ...out, isTTY: true } })("hi");
    assert.deepEqual(written, ["api    | hello\n", "\x1b[36mapi   \x1b[0m | hi\n"]);
  });
});
