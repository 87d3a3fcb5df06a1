import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type AccessRules, loadAccessRules } from "@syncstack/shared";

/**
 * The sync service's access rules file in the repository (from `src/` and `dist/` alike): a
 * restore computes readers from the same rules sync writes with.
 */
export const syncAccessRulesFile = fileURLToPath(
  new URL("../../sync/access-rules.json", import.meta.url),
);

/**
 * The access rules a restore follows: ACCESS_RULES_FILE (which must load), else sync's file
 * when it is there (a deployed image holds only its own service: set ACCESS_RULES_FILE),
 * else none, and a restored document's readers are its own.
 */
export function restoreAccessRules(file: string | undefined): AccessRules | undefined {
  if (file !== undefined) return loadAccessRules(file);
  return existsSync(syncAccessRulesFile) ? loadAccessRules(syncAccessRulesFile) : undefined;
}
