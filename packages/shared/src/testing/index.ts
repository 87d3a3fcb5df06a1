export * from "./emulator-env.ts";
