/** The console API's answers, as tools/console-server sends them. */

export interface SubscriptionView {
  name: string;
  service: string;
  delivery: "push" | "pull";
  ack_deadline_seconds: number;
  ordered: boolean;
  filter: string | null;
  exists: boolean;
  push_endpoint: string | null;
  dead_letters: number;
}

export interface TopicView {
  name: string;
  description: string;
  publishers: string[];
  scheduled: string | null;
  subscriptions: SubscriptionView[];
  dead_letter_topic: string;
  dead_letter_subscription: string;
  dead_letters: number;
}

export interface ServiceView {
  name: string;
  url: string | null;
  health: "ok" | "failing" | "unknown";
}

export interface StatsFigures {
  total_users?: number;
  total_documents?: number;
  total_collaborations?: number;
  active_users?: number;
  [field: string]: unknown;
}

/** What the live stream and `/v1/console/topology` send. */
export interface Snapshot {
  topology: { services: ServiceView[]; topics: TopicView[]; pubsub_error: string | null };
  stats: StatsFigures | null;
}

export interface DeadLetterView {
  id: string;
  topic: string;
  publish_time: string;
  reason: string;
  source_subscription: string | null;
  attributes: Record<string, string>;
  ordering_key: string | null;
  payload: string;
  payload_base64: string;
  size: number;
}

export interface StatsAnswer {
  latest: StatsFigures | null;
  history: (StatsFigures & { tick: string; timestamp?: string })[];
  from: string;
  to: string;
  has_more: boolean;
}

export interface CollectionView {
  name: string;
  policy: string;
  documents: number;
  tombstones: number;
}

export interface DocumentView {
  id: string;
  version: number | null;
  created_by: string | null;
  deleted: boolean;
  deleted_at: string | null;
  updated_at: string | null;
  sync_source: string | null;
  data: unknown;
}
