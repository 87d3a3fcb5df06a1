export { readStackFile } from "@syncstack/shared/cli";
export { type SignedIn, setCustomClaims, signIn, signUp } from "./auth-emulator-api.ts";
export { chromiumPath, ensureChromium } from "./chromium.ts";
export { type EmulatorSession, startEmulatorSession } from "./emulator-session.ts";
export { freePort } from "./free-port.ts";
export { notesAppDir } from "./notes-app.ts";
export { repoRoot } from "./paths.ts";
export { groupCpuMs, groupJitCpuMs, type ManagedProcess, startService } from "./process-group.ts";
export { type ScratchStack, startScratchStack } from "./scratch-stack.ts";
export {
  nodeOptionsOf,
  type RunningStack,
  type StackFile,
  type StackOptions,
  startStack,
} from "./stack.ts";
