import { fileURLToPath } from "node:url";

/**
 * The access rules file the service ships with (docs/access-rules.md): beside package.json,
 * so `src/` and the deployed `dist/` both find it; ACCESS_RULES_FILE overrides it.
 */
export const defaultAccessRulesFile = fileURLToPath(
  new URL("../access-rules.json", import.meta.url),
);
