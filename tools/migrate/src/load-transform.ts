import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { DocumentData } from "@google-cloud/firestore";
import { AppError } from "@syncstack/shared";

/**
 * What a transform module exports as `transform` or `default`: the new data for a document,
 * or null to leave it out. Integers arrive as numbers (as bigint past 2^53).
 */
export type MigrationTransform = (
  data: DocumentData,
  id: string,
) => DocumentData | null | Promise<DocumentData | null>;

/**
 * Imports the module at `path` (relative to `baseDir`) and returns its transform function;
 * a module that cannot serve is an AppError invalid_argument (a bad argument to the CLI).
 */
export async function loadTransform(path: string, baseDir: string): Promise<MigrationTransform> {
  const file = resolve(baseDir, path);
  if (!existsSync(file))
    throw new AppError("invalid_argument", `--transform ${path}: no such file`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new AppError(
      "invalid_argument",
      `--transform ${path} does not load: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const candidate = module.transform ?? module.default;
  if (typeof candidate !== "function") {
    throw new AppError(
      "invalid_argument",
      `--transform ${path} exports no function named transform (or a default export)`,
    );
  }
  return candidate as MigrationTransform;
}
