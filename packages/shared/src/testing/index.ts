export * from "./collect.ts";
export * from "./emulator-env.ts";
export * from "./sample-payload.ts";
export * from "./signed-tokens.ts";
