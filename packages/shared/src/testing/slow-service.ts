// A service built by the shared factory with one slow route, run as its own process by
// serve.test.ts to show that SIGTERM lets an in-flight request finish.
import { createApp } from "../http/app.ts";
import { serve } from "../http/serve.ts";
import { createLogger } from "../logger.ts";

const logger = createLogger({ projectId: "demo-slow" });
const app = createApp({
  name: "slow",
  logger,
  bodyLimitBytes: 1_024,
  routes: (routes) => {
    routes.get("/slow", async (_request, response) => {
      await new Promise((resolve) => setTimeout(resolve, Number(process.env.SLOW_MS ?? 1_000)));
      response.json({ finished: true });
    });
  },
});
await serve(app, {
  port: 0,
  host: "127.0.0.1",
  logger,
  graceMs: Number(process.env.GRACE_MS ?? 5_000),
  handleSignals: true,
  onShutdown: async () => logger.info("shutdown hook ran"),
});
