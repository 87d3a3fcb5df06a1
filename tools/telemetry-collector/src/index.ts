export { createCollectorApp } from "./collector-app.ts";
export {
  type AttributeValue,
  type CollectedPoint,
  type CollectedSpan,
  OtlpFormatError,
  pointsOf,
  spansOf,
} from "./otlp-json.ts";
export {
  type MetricSeries,
  TelemetryStore,
  type TelemetryStoreOptions,
  type TraceSummary,
} from "./telemetry-store.ts";
