// `pnpm audit:deps [--allow-unreachable]`: fails on any known high or critical vulnerability
// in production dependencies (`pnpm audit --prod --audit-level high`). When the registry's
// audit endpoint cannot be reached the audit did not happen: that fails too, unless
// --allow-unreachable, which only warns (for registries that do not serve audits).
import { spawnSync } from "node:child_process";

const allowUnreachable = process.argv.includes("--allow-unreachable");
const result = spawnSync("pnpm", ["audit", "--prod", "--audit-level", "high"], {
  encoding: "utf8",
  stdio: ["ignore", "pipe", "pipe"],
  // `pnpm run --silent` (as ./syncstack runs scripts) would silence the audit's own report.
  env: { ...process.env, npm_config_loglevel: "info", npm_config_reporter: "default" },
});
const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
process.stdout.write(output);

const unreachable =
  result.error !== undefined ||
  /ERR_PNPM_AUDIT_BAD_RESPONSE|ERR_PNPM_AUDIT_ENDPOINT|ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN/.test(
    output,
  );
if (unreachable) {
  const message =
    "dependency audit NOT RUN: the registry's audit endpoint could not be reached or refused the request (see above); no vulnerability data was checked";
  process.stderr.write(`\naudit:deps: ${message}\n`);
  process.exit(allowUnreachable ? 0 : 3);
}
if (result.status !== 0) {
  process.stderr.write(
    "\naudit:deps: production dependencies have high or critical vulnerabilities\n",
  );
  process.exit(1);
}
process.stdout.write(
  "audit:deps: no known high or critical vulnerability in production dependencies\n",
);
