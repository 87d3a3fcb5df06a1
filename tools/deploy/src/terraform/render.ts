import { join } from "node:path";
import { repoRoot } from "@syncstack/local-stack";
import { type AccessRules, loadAccessRules, serviceNames, topics } from "@syncstack/shared";
import { bucketSpecs } from "@syncstack/shared/provision";
import { renderConsole } from "./console.ts";
import { renderMonitoring } from "./monitoring.ts";
import { renderProject } from "./project.ts";
import { renderPubSub } from "./pubsub.ts";
import { renderServices } from "./run.ts";
import { renderSchedules, renderStorage } from "./storage.ts";
import { mergeTerraform, type TerraformJson } from "./terraform.ts";
import { accessRulesFile, renderTombstoneTtls } from "./tombstones.ts";

/** Where the rendered configuration is committed (`pnpm run infra` rewrites it). */
export const infraFile = join(repoRoot, "infra", "syncstack.tf.json");

/**
 * The whole production infrastructure, rendered from the registries and the access rules
 * (by default the file the sync service ships; a bad file stops the render, naming the entry).
 */
export function renderInfrastructure(
  rules: AccessRules = loadAccessRules(accessRulesFile),
): TerraformJson {
  return mergeTerraform(
    renderProject(),
    renderTombstoneTtls(rules),
    renderPubSub(topics),
    renderServices(topics),
    renderConsole(topics),
    renderStorage(bucketSpecs),
    renderSchedules(topics),
    renderMonitoring(),
    {
      output: {
        ...Object.fromEntries(
          serviceNames.map((service) => [
            `${service}_url`,
            { value: `\${google_cloud_run_v2_service.${service}.uri}` },
          ]),
        ),
        console_url: { value: "${one(google_cloud_run_v2_service.console[*].uri)}" },
        buckets: { value: "${local.buckets}" },
        push_service_account: { value: "${google_service_account.push.email}" },
      },
    },
  );
}

/** The file's text: stable, two-space JSON with a final newline. */
export function renderInfraText(): string {
  return `${JSON.stringify(renderInfrastructure(), null, 2)}\n`;
}

/** Every resource of a configuration as `type.name`, in file order. */
export function resourceAddresses(config: TerraformJson): string[] {
  return Object.entries(config.resource ?? {}).flatMap(([type, byName]) =>
    Object.keys(byName).map((name) => `${type}.${name}`),
  );
}
