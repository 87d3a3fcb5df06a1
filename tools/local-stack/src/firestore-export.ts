import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";

// The emulator writes an export to <export_directory>/<export_name>/ with
// <export_name>.overall_export_metadata inside; --import-data wants that file, not the folder.
const exportPrefix = "firestore-";

/** The metadata file of the newest export in `dataDir`, the file `--import-data` wants. */
export async function latestFirestoreExport(dataDir: string): Promise<string | undefined> {
  const names = (await readdir(dataDir)).filter((name) => name.startsWith(exportPrefix)).sort();
  for (const name of names.reverse()) {
    const file = join(dataDir, name, `${name}.overall_export_metadata`);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/**
 * Exports `projectId`'s documents into a new folder of `dataDir` through the emulator's REST API,
 * then removes older exports, so that a failed export never costs the previous one.
 */
export async function exportFirestore(
  host: string,
  projectId: string,
  dataDir: string,
): Promise<void> {
  const name = `${exportPrefix}${Date.now()}`;
  const response = await fetch(`http://${host}/emulator/v1/projects/${projectId}:export`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      database: `projects/${projectId}/databases/(default)`,
      export_directory: dataDir,
      export_name: name,
    }),
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok) throw new Error(`export answered ${response.status}: ${await response.text()}`);
  for (const old of await readdir(dataDir)) {
    if (old.startsWith(exportPrefix) && old !== name)
      await rm(join(dataDir, old), { recursive: true });
  }
}
