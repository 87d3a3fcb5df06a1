export {
  type CommandLineConfig,
  parseCommandLine,
  usageError,
} from "./command-line.ts";
export {
  type Emulator,
  findTarget,
  NoTargetError,
  readStackFile,
  type StackFile,
  stackEnvironment,
  stateDir,
  type Target,
} from "./target.ts";
