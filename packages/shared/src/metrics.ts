import {
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  context,
  type Histogram,
  type MeterProvider,
  metrics,
  type Observable,
} from "@opentelemetry/api";
import { suppressTracing } from "@opentelemetry/core";

/** Seconds, from a millisecond up to ten minutes: request latencies and event lags alike. */
const secondsBuckets = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

/**
 * The names of syncstack's metrics (docs/observability.md lists their labels). Underscores,
 * not dots, so Cloud Monitoring's PromQL names them as they are written here.
 */
export const metricNames = {
  httpDuration: "syncstack_http_server_duration_seconds",
  messagesHandled: "syncstack_messages_handled",
  messagesFailed: "syncstack_messages_failed",
  messagesDeadLettered: "syncstack_messages_dead_lettered",
  handlerDuration: "syncstack_message_handler_duration_seconds",
  eventLag: "syncstack_event_lag_seconds",
  outboxBacklog: "syncstack_outbox_backlog",
  outboxOldestAge: "syncstack_outbox_oldest_age_seconds",
  liveStreams: "syncstack_live_streams",
} as const;

/** The instruments syncstack records into. */
export interface Instruments {
  /** Per request: `route`, `method`, `status`. */
  httpDuration: Histogram;
  /** Per message acked after its handler succeeded: `subscription`, `topic`. */
  messagesHandled: Counter;
  /** Per failed attempt (retried or dead-lettered): `subscription`, `topic`. */
  messagesFailed: Counter;
  /** Per message sent to its dead-letter topic: `subscription`, `topic`. */
  messagesDeadLettered: Counter;
  /** The handler's time: `subscription`, `topic`, `outcome` (`ack`, `retry`, `dead_letter`). */
  handlerDuration: Histogram;
  /** From the event's time (its commit) to its handler's start: `subscription`, `topic`. */
  eventLag: Histogram;
}

let cache: { provider: MeterProvider; instruments: Instruments } | undefined;

/**
 * The instruments of the installed meter provider (setupTelemetry), or the API's no-ops when
 * metrics are off. Created once per provider: the API has no proxy that would bind
 * instruments made before the provider is installed.
 */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cache?.provider === provider) return cache.instruments;
  const meter = provider.getMeter("syncstack");
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, {
      description,
      unit: "s",
      advice: { explicitBucketBoundaries: secondsBuckets },
    });
  const instrumentsOfProvider: Instruments = {
    httpDuration: seconds(metricNames.httpDuration, "HTTP requests served, by route and status"),
    messagesHandled: meter.createCounter(metricNames.messagesHandled, {
      description: "Messages a handler processed successfully",
    }),
    messagesFailed: meter.createCounter(metricNames.messagesFailed, {
      description: "Message deliveries whose handler failed (retried or dead-lettered)",
    }),
    messagesDeadLettered: meter.createCounter(metricNames.messagesDeadLettered, {
      description: "Messages sent to their dead-letter topic",
    }),
    handlerDuration: seconds(metricNames.handlerDuration, "Time a message handler took"),
    eventLag: seconds(metricNames.eventLag, "From an event's time to its handler's start"),
  };
  cache = { provider, instruments: instrumentsOfProvider };
  return instrumentsOfProvider;
}

/** A gauge read when metrics are collected; returns the function that removes it. */
export interface GaugeSpec {
  name: string;
  description: string;
  unit?: string;
}

/**
 * Registers gauges observed together by one callback (it may query a database once for all
 * of them); returns the function that unregisters them, for a service's shutdown.
 */
export function observeGauges(
  specs: readonly GaugeSpec[],
  observe: (record: (name: string, value: number, attributes?: Attributes) => void) => unknown,
): () => void {
  const meter = metrics.getMeterProvider().getMeter("syncstack");
  const gauges = new Map<string, Observable>(
    specs.map((spec) => [
      spec.name,
      meter.createObservableGauge(spec.name, {
        description: spec.description,
        ...(spec.unit ? { unit: spec.unit } : {}),
      }),
    ]),
  );
  const callback: BatchObservableCallback = async (result) => {
    // Reading a gauge is no one's request: its database calls would each be a trace of their own.
    await context.with(suppressTracing(context.active()), () =>
      observe((name, value, attributes) => {
        const gauge = gauges.get(name);
        if (gauge) result.observe(gauge, value, attributes);
      }),
    );
  };
  meter.addBatchObservableCallback(callback, [...gauges.values()]);
  return () => meter.removeBatchObservableCallback(callback, [...gauges.values()]);
}
