import type { AccessRules } from "@syncstack/shared";
import { type RealtimeUpdate, realtimeUpdates, userCreated } from "@syncstack/shared";
import {
  type Collector,
  type ServiceUnderTestOptions,
  startServiceUnderTest,
  waitFor,
} from "@syncstack/shared/testing";
import { syncService } from "../app.ts";
import { syncEnvSchema } from "../config.ts";

type SyncDefinition = ReturnType<typeof syncService>;

/**
 * The sync service under the shared harness as its emulator tests run it: its topics pushed
 * to it, `realtime-updates` collected, requests as alice, every outbox entry the sweeper's at
 * once (the tests sweep by hand), and the outbox drained on close.
 */
export function startSync(
  options: ServiceUnderTestOptions<SyncDefinition> & { rules?: AccessRules } = {},
) {
  const { rules, ...rest } = options;
  return startServiceUnderTest(
    {
      name: "sync",
      envSchema: syncEnvSchema,
      define: (context) => syncService(context, undefined, undefined, rules),
    },
    {
      topics: [realtimeUpdates, userCreated],
      collect: [realtimeUpdates],
      user: "alice",
      beforeClose: (definition) => definition.outbox.drain(),
      ...rest,
      env: { OUTBOX_SWEEP_AGE_MS: "0", BODY_LIMIT_BYTES: String(2 * 1_048_576), ...rest.env },
    },
  );
}

/** Waits until `count` events of `document` were published; returns them in arrival order. */
export function eventsFor(
  events: Collector,
  document: string,
  count: number,
): Promise<RealtimeUpdate[]> {
  return waitFor(`${count} events for ${document}`, () => {
    const found = events.payloads<RealtimeUpdate>().filter((event) => event.document === document);
    return found.length >= count ? found : undefined;
  });
}

export { openSse, type SseStream } from "./sse.ts";
