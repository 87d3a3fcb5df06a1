/**
 * The console API's views, shared by the server and the web app (apps/console imports them as
 * types): plain data, no imports, so the browser build type-checks them without Node.
 */

/** One subscription of the registry, and what Pub/Sub has for it. */
export interface SubscriptionView {
  name: string;
  service: string;
  delivery: "push" | "pull";
  ack_deadline_seconds: number;
  ordered: boolean;
  filter: string | null;
  /** Whether Pub/Sub has the subscription (false: the deployment drifted from the registry). */
  exists: boolean;
  push_endpoint: string | null;
  /** The topic's dead letters this subscription gave up on. */
  dead_letters: number;
}

/** One topic of the registry with its subscriptions and the dead letters it holds. */
export interface TopicView {
  name: string;
  description: string;
  publishers: string[];
  scheduled: string | null;
  subscriptions: SubscriptionView[];
  dead_letter_topic: string;
  dead_letter_subscription: string;
  /** Messages kept by the dead-letter subscription now. */
  dead_letters: number;
}

/** A service of the registry and whether it answers its health check. */
export interface ServiceView {
  name: string;
  url: string | null;
  health: "ok" | "failing" | "unknown";
}

/** A subscription's messages over the last minute (and since its process started). */
export interface SubscriptionRates {
  handled_per_min: number;
  failed_per_min: number;
  dead_lettered_per_min: number;
  handled_total: number;
  failed_total: number;
  dead_lettered_total: number;
}

/** What the topology shows from the collector's series; null fields: no series yet. */
export interface TopologyMetrics {
  /** Where the figures come from, or null when the console has no collector. */
  source: string | null;
  error: string | null;
  /** By subscription name. */
  subscriptions: Record<string, SubscriptionRates>;
  /** Requests per minute by service (every route and status but the health checks). */
  requests_per_min: Record<string, number>;
  /** The sync service's outbox entries not yet known published (the latest point). */
  outbox_backlog: number | null;
  /** The newest point the figures include. */
  as_of: string | null;
}

/** A trace in the collector's `/api/traces` list. */
export interface TraceSummary {
  traceId: string;
  root: string;
  services: string[];
  spans: number;
  errors: number;
  startTime: string;
  durationMs: number;
}
