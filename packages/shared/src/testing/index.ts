export * from "./collect.ts";
export * from "./emulator-env.ts";
export * from "./sample-payload.ts";
export {
  type ServiceBuilder,
  type ServiceUnderTest,
  type ServiceUnderTestOptions,
  startServiceUnderTest,
  type TestRequest,
} from "./service-under-test.ts";
export * from "./signed-tokens.ts";
