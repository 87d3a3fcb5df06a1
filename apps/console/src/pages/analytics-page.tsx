import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Api } from "../api.ts";
import type { Snapshot, StatsAnswer } from "../types.ts";

const series = [
  { field: "total_users", label: "users", stroke: "#2563eb" },
  { field: "active_users", label: "active users", stroke: "#16a34a" },
  { field: "total_documents", label: "documents", stroke: "#d97706" },
  { field: "total_collaborations", label: "collaborations", stroke: "#9333ea" },
] as const;

/** The trend of the stats ticks, one line per figure, with uPlot. */
function TrendPlot({ history }: { history: StatsAnswer["history"] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current || history.length === 0) return;
    const times = history.map((tick) => Date.parse(String(tick.timestamp ?? tick.tick)) / 1_000);
    const data: uPlot.AlignedData = [
      times,
      ...series.map((s) => history.map((tick) => Number(tick[s.field] ?? 0))),
    ];
    const plot = new uPlot(
      {
        width: Math.max(400, box.current.clientWidth),
        height: 280,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2 }))],
        axes: [{}, { label: "count" }],
      },
      data,
      box.current,
    );
    return () => plot.destroy();
  }, [history]);
  return <div ref={box} className="plot" data-testid="trend-plot" />;
}

/** The latest figures of the analytics service and a trend plot of its history. */
export function AnalyticsPage({ api, snapshot }: { api: Api; snapshot: Snapshot | null }) {
  const [stats, setStats] = useState<StatsAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const tick = snapshot?.stats ? String(snapshot.stats.timestamp ?? "") : "";
  // Again whenever the live snapshot shows a new tick.
  useEffect(() => {
    api.get<StatsAnswer>("/v1/console/stats").then(
      (answer) => {
        setStats(answer);
        setError(null);
      },
      (failure: unknown) => setError((failure as Error).message),
    );
  }, [api, tick]);
  return (
    <section>
      <h2>Analytics</h2>
      {error && <p className="error">{error}</p>}
      {!stats ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          {stats.latest === null ? (
            <p data-testid="no-stats">No stats tick yet.</p>
          ) : (
            <div className="figures" data-testid="latest-figures">
              {series.map((s) => (
                <div key={s.field} className="card figure" data-testid={`figure-${s.field}`}>
                  <div className="value">{String(stats.latest?.[s.field] ?? "–")}</div>
                  <div className="muted">{s.label}</div>
                </div>
              ))}
              <p className="muted small">latest tick {String(stats.latest.timestamp ?? "")}</p>
            </div>
          )}
          <h3>
            Trend ({stats.history.length} ticks from {new Date(stats.from).toLocaleDateString()} to{" "}
            {new Date(stats.to).toLocaleDateString()})
          </h3>
          {stats.history.length === 0 ? (
            <p className="muted">No history yet.</p>
          ) : (
            <TrendPlot history={stats.history} />
          )}
        </>
      )}
    </section>
  );
}
