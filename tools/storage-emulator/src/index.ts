export {
  type StorageEmulator,
  type StorageEmulatorOptions,
  startStorageEmulator,
} from "./server.ts";
