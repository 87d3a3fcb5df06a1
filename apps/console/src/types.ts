/** The console API's answers, as tools/console-server sends them. */

import type {
  ServiceView,
  SubscriptionRates,
  SubscriptionView,
  TopicView,
  TopologyMetrics,
  TraceSummary,
} from "@syncstack/console-server/views";

export type {
  ServiceView,
  SubscriptionRates,
  SubscriptionView,
  TopicView,
  TopologyMetrics,
  TraceSummary,
};

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
  metrics: TopologyMetrics;
  /** The latest backup records' states. */
  backups: { id: string; status: string }[];
  stats: StatsFigures | null;
}

export interface SpanView {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: string;
  service: string;
  startTime: string;
  endTime: string;
  startTimeUnixNano: string;
  durationMs: number;
  status: "unset" | "ok" | "error";
  statusMessage?: string;
  attributes: Record<string, unknown>;
}

export interface TraceView {
  traceId: string;
  spans: SpanView[];
  droppedSpans: number;
}

/** A backup as the backup service lists it (records and bucket). */
export interface BackupView {
  id: string;
  status: string;
  has_record: boolean;
  type: string | null;
  created_at: string | null;
  completed_at: string | null;
  document_count: number | null;
  collections: { name: string; documents: number }[];
  bytes: number;
  objects: number;
  bucket: string | null;
  storage_path: string | null;
  reason: string | null;
}

export interface BackupConfigView {
  enabled: boolean;
  collections: string[];
  storage_bucket: string;
  retention_days: number;
  state: string;
  problem: string | null;
}

export interface RestoreReport {
  backup_id: string;
  dry_run: boolean;
  undelete: boolean;
  read_time: string;
  collections: {
    name: string;
    target: string;
    documents: number;
    new: number;
    changed: number;
    unchanged: number;
    deleted_since: number;
    undeleted: number;
  }[];
  documents: number;
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
