import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { repoRoot } from "./paths.ts";
import { type ManagedProcess, startService } from "./process-group.ts";

/** Where the demo notes app is (apps/notes, a workspace package). */
export const notesAppDir = join(repoRoot, "apps", "notes");

/** What the notes app is told about the stack it runs against. */
export interface NotesAppOptions {
  port: number;
  projectId: string;
  /** The sync service's URL. */
  syncUrl: string;
  /** The Firebase Auth emulator's `host:port`. */
  authHost: string;
  /** Vite's dependency cache for this stack (stacks side by side must not share one). */
  cacheDir: string;
  log: (line: string) => void;
}

/** The app's origins the sync service must allow (CORS): the address it listens on, and localhost. */
export function notesAppOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

/** Vite's command line script, from the app's own dependencies. */
function viteBin(): string {
  const require = createRequire(join(notesAppDir, "package.json"));
  return join(dirname(require.resolve("vite/package.json")), "bin", "vite.js");
}

/**
 * Starts the notes app's Vite dev server on 127.0.0.1:port, with the stack's addresses as the
 * VITE_* variables the app reads (apps/notes/src/config.ts).
 */
export function startNotesApp(options: NotesAppOptions): ManagedProcess {
  return startService("app", {
    command: process.execPath,
    args: [viteBin(), "--port", String(options.port), "--strictPort", "--host", "127.0.0.1"],
    cwd: notesAppDir,
    env: {
      ...process.env,
      VITE_SYNC_URL: options.syncUrl,
      VITE_AUTH_EMULATOR_URL: `http://${options.authHost}`,
      VITE_FIREBASE_PROJECT_ID: options.projectId,
      SYNCSTACK_APP_CACHE_DIR: options.cacheDir,
    },
    log: options.log,
  });
}
