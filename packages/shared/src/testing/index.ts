export * from "./collect.ts";
export * from "./emulator-env.ts";
