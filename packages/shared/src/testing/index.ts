export { type Collector, collectMessages } from "./collect.ts";
export {
  emulatorHosts,
  emulatorIdToken,
  listen,
  memoryLogger,
  resetFirestore,
  testConfig,
  testEnv,
  testProjectId,
  waitFor,
} from "./emulator-env.ts";
export { samplePayload } from "./sample-payload.ts";
export {
  type ServiceBuilder,
  type ServiceUnderTest,
  type ServiceUnderTestOptions,
  startServiceUnderTest,
  type TestRequest,
} from "./service-under-test.ts";
export { signingKit } from "./signed-tokens.ts";
export { withoutTraceId } from "./without-trace-id.ts";
