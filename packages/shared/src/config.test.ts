import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { baseEnvSchema, ConfigError, loadConfig, withDefaultPort } from "./config.ts";

test("parses the environment with defaults", () => {
  const config = loadConfig(baseEnvSchema, { PORT: "8081" });
  assert.equal(config.PORT, 8081);
  assert.equal(config.GOOGLE_CLOUD_PROJECT, "demo-syncstack");
  assert.equal(config.OTEL_TRACES_EXPORTER, "none");
});

test("a bad or missing variable stops start-up with a message naming it", () => {
  assert.throws(
    () => loadConfig(baseEnvSchema, {}),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /PORT is required but not set/);
      return true;
    },
  );
  assert.throws(
    () =>
      loadConfig(baseEnvSchema, {
        PORT: "80",
        PUBSUB_EMULATOR_HOST: "localhost",
        LOG_LEVEL: "LOUD",
      }),
    /PUBSUB_EMULATOR_HOST="localhost" is invalid: must be host:port[\s\S]*LOG_LEVEL="LOUD" is invalid/,
  );
  const schema = withDefaultPort(baseEnvSchema.extend({ UPLOADS_BUCKET: z.string().min(3) }), 8082);
  assert.throws(() => loadConfig(schema, {}), /UPLOADS_BUCKET is required but not set/);
  assert.equal(loadConfig(schema, { UPLOADS_BUCKET: "abc" }).PORT, 8082);
});
