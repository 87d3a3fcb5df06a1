// `./syncstack infra`: renders the Terraform configuration from the registries to infra/.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import { infraFile, renderInfraText } from "./render.ts";

if (process.argv.slice(2).length > 0) {
  const help = process.argv.includes("--help") || process.argv.includes("-h");
  (help ? process.stdout : process.stderr).write(
    `usage: ./syncstack infra\n\nRenders the Terraform configuration from the registries to ${relative(repoRoot, infraFile)}.\n`,
  );
  process.exit(help ? 0 : 2);
}
await mkdir(dirname(infraFile), { recursive: true });
await writeFile(infraFile, renderInfraText());
process.stdout.write(`wrote ${relative(repoRoot, infraFile)}\n`);
