export * from "./collect.ts";
export * from "./emulator-env.ts";
export * from "./signed-tokens.ts";
