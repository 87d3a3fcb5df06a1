export { FileStorage } from "./file-storage.ts";
export * from "./index.ts";
