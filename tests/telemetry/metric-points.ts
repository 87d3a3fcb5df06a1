import type { Telemetry } from "@syncstack/shared";

/**
 * The current value of a metric's points whose labels include `labels`, summed: a counter's
 * count, a histogram's number of measurements; 0 when it has none.
 */
export async function metricValue(
  telemetry: Telemetry,
  name: string,
  labels: Record<string, string | number>,
): Promise<number> {
  const collected = await telemetry.collectMetrics();
  let total = 0;
  for (const scope of collected?.scopeMetrics ?? []) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        const matches = Object.entries(labels).every(
          ([key, value]) => point.attributes[key] === value,
        );
        if (!matches) continue;
        const value = point.value as number | { count: number };
        total += typeof value === "number" ? value : value.count;
      }
    }
  }
  return total;
}
