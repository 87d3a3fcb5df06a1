import { fileURLToPath } from "node:url";

/** The repository root, wherever the tools are run from. */
export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
