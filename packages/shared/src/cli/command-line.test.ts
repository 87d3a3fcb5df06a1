import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const module = fileURLToPath(new URL("./command-line.ts", import.meta.url));

/** Runs a tiny CLI built on parseCommandLine with `args`; its exit code and output. */
function cli(args: string[]) {
  const script = `
    import { parseCommandLine, usageError } from ${JSON.stringify(module)};
    const usage = "usage: demo [--count <n>] <name>";
    const { values, positionals } = parseCommandLine(
      { allowPositionals: true, options: { count: { type: "string" }, help: { type: "boolean", short: "h" } } },
      usage,
      usageError("demo", usage),
    );
    process.stdout.write(JSON.stringify({ count: values.count, positionals }));
  `;
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", script, "--", ...args], {
    encoding: "utf8",
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

test("parses options and positionals", () => {
  const run = cli(["--count", "3", "alice"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { count: "3", positionals: ["alice"] });
});

test("--help and -h print the usage and exit 0, whatever else is given", () => {
  for (const flag of ["--help", "-h"]) {
    const run = cli(["--count", "3", flag]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "usage: demo [--count <n>] <name>\n");
  }
});

test("an unknown option or a missing value exits 2 naming it, then the usage", () => {
  const unknown = cli(["--colour", "red"]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^demo: .*'--colour'/);
  assert.match(unknown.stderr, /\n\nusage: demo/);
  const missing = cli(["--count"]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^demo: .*'--count/);
  assert.equal(missing.stdout, "");
});
