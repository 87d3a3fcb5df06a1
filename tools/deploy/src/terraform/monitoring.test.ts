import assert from "node:assert/strict";
import { test } from "node:test";
import { metricNames } from "@syncstack/shared";
import { alertSpecs, type dashboard, renderMonitoring } from "./monitoring.ts";
import { renderInfrastructure } from "./render.ts";

const exported = new Set<string>(Object.values(metricNames));
/** The metric names a PromQL query reads (a histogram's series by its base name). */
const namesIn = (query: string) =>
  [...query.matchAll(/syncstack_[a-z_]+/g)].map(([name]) =>
    name.replace(/_(bucket|count|sum)$/, ""),
  );

test("the alerts watch dead letters, the outbox's age, push failures and event lag", () => {
  assert.deepEqual(
    alertSpecs.map((alert) => alert.id),
    ["dead_letter", "outbox_oldest_age", "push_failure_rate", "event_lag"],
  );
  const policies = renderMonitoring().resource?.google_monitoring_alert_policy ?? {};
  for (const alert of alertSpecs) {
    assert.ok(policies[alert.id], `${alert.id} is rendered`);
    for (const name of namesIn(alert.query))
      assert.ok(exported.has(name), `${alert.id} reads ${name}, a metric the services export`);
  }
  assert.match(
    alertSpecs.find((a) => a.id === "outbox_oldest_age")?.query ?? "",
    /syncstack_outbox_oldest_age_seconds\) > 60/,
  );
});

test("the dashboard charts every metric the services export, from queries of those names", () => {
  const rendered = renderMonitoring().resource?.google_monitoring_dashboard?.syncstack;
  const parsed = JSON.parse(String(rendered?.dashboard_json)) as ReturnType<typeof dashboard>;
  const queries = JSON.stringify(parsed).match(/syncstack_[a-z_]+/g) ?? [];
  const charted = new Set(queries.map((name) => name.replace(/_(bucket|count|sum)$/, "")));
  assert.deepEqual([...charted].sort(), [...exported].sort());
});

test("the services export metrics to Cloud Monitoring by default and may write them", () => {
  const infra = renderInfrastructure();
  assert.equal(infra.variable?.metrics_exporter?.default, "gcp");
  const members = Object.values(infra.resource?.google_project_iam_member ?? {}).map(
    (member) => member.role,
  );
  assert.ok(members.includes("roles/telemetry.metricsWriter"));
  assert.ok(infra.resource?.google_project_service?.monitoring);
});
