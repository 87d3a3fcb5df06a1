import { AppError } from "@syncstack/shared";
import {
  type Checkpoint,
  identityDifferences,
  type MigrationIdentity,
  readCheckpoint,
  removeCheckpoint,
} from "./checkpoint.ts";

/** Where a run begins: from scratch, after a checkpoint, or nowhere (already complete). */
export type StartPlan =
  | { kind: "fresh"; note?: string }
  | { kind: "resume"; checkpoint: Checkpoint }
  | { kind: "done"; checkpoint: Checkpoint };

/** The choices that decide how a run treats an existing checkpoint. */
export interface StartOptions {
  checkpointPath: string;
  identity: MigrationIdentity;
  resume: boolean;
  restart: boolean;
  dryRun: boolean;
}

/**
 * Reads the checkpoint before anything touches Firestore and decides where to start. A run
 * that would overwrite or ignore another run's progress is refused (AppError
 * invalid_argument), so nothing is touched until the user says which they mean.
 */
export async function planStart(options: StartOptions): Promise<StartPlan> {
  const { checkpointPath: path } = options;
  // A dry run never reads nor writes a checkpoint: it always reads everything.
  if (options.dryRun) return { kind: "fresh" };
  if (options.restart) {
    await removeCheckpoint(path);
    return { kind: "fresh" };
  }
  let checkpoint: Checkpoint | undefined;
  try {
    checkpoint = await readCheckpoint(path);
  } catch (error) {
    throw new AppError(
      "invalid_argument",
      `cannot read the checkpoint ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!checkpoint) {
    return options.resume
      ? { kind: "fresh", note: `no checkpoint at ${path}: starting from the beginning` }
      : { kind: "fresh" };
  }
  const differences = identityDifferences(checkpoint.migration, options.identity);
  if (differences.length > 0) {
    throw new AppError(
      "invalid_argument",
      `the checkpoint ${path} belongs to another migration (it differs in ${differences.join(", ")}): ` +
        "pass --checkpoint <file> for this one, or --restart to discard it",
    );
  }
  if (checkpoint.complete) return { kind: "done", checkpoint };
  if (!options.resume) {
    throw new AppError(
      "invalid_argument",
      `an interrupted run left the checkpoint ${path} (${checkpoint.counts.read} documents done): ` +
        "pass --resume to continue it, or --restart to start over",
    );
  }
  return { kind: "resume", checkpoint };
}
