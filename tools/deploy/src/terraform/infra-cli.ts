// `pnpm run infra`: renders the Terraform configuration from the registries to infra/.
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import { infraFile, renderInfraText } from "./render.ts";

await mkdir(dirname(infraFile), { recursive: true });
await writeFile(infraFile, renderInfraText());
process.stdout.write(`wrote ${relative(repoRoot, infraFile)}\n`);
