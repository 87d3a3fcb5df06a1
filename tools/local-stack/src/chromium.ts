import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Where Debian's `chromium` package puts the browser the end-to-end tests drive. */
export const chromiumPath = "/usr/bin/chromium";

/**
 * Makes sure Debian's Chromium is installed for the browser tests: when it is missing, says so
 * and installs it once with apt-get (`apt-get update` first when the package lists do not know
 * it yet). Returns a problem to report, or undefined when the browser is there.
 */
export function ensureChromium(write: (line: string) => void = console.error): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  write(
    `syncstack test: the browser tests need Chromium at ${chromiumPath}; installing Debian's chromium package (apt-get install -y chromium), once`,
  );
  const apt = (...args: string[]) =>
    spawnSync("apt-get", args, {
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  let result = apt("install", "-y", "--no-install-recommends", "chromium");
  if (result.status !== 0 && !result.error) {
    write("syncstack test: apt-get install failed; updating the package lists and trying again");
    apt("update");
    result = apt("install", "-y", "--no-install-recommends", "chromium");
  }
  if (result.status === 0 && existsSync(chromiumPath)) return undefined;
  const why = result.error ? result.error.message : `apt-get exited with ${result.status}`;
  return `Chromium is not installed and installing it failed (${why}): run \`apt-get install -y chromium\` as root, then the tests again`;
}
