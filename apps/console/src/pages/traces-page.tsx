import { type FormEvent, useCallback, useEffect, useState } from "react";
import type { Api } from "../api.ts";
import type { SpanView, TraceSummary, TraceView } from "../types.ts";

const serviceColours: Record<string, string> = {
  sync: "#2563eb",
  analytics: "#16a34a",
  files: "#d97706",
  backup: "#9333ea",
  console: "#0891b2",
};

/** The trace id a page address names (`/traces?trace=<id>`), if any. */
function traceOfLocation(): string {
  return new URLSearchParams(location.search).get("trace") ?? "";
}

/** Spans in tree order (each after its parent, children by start) with their depth. */
function inTreeOrder(spans: SpanView[]): { span: SpanView; depth: number }[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const children = new Map<string, SpanView[]>();
  const roots: SpanView[] = [];
  for (const span of spans) {
    if (span.parentSpanId && ids.has(span.parentSpanId)) {
      children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
    } else roots.push(span);
  }
  const out: { span: SpanView; depth: number }[] = [];
  const visit = (span: SpanView, depth: number) => {
    out.push({ span, depth });
    for (const child of children.get(span.spanId) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  return out;
}

/** One trace as a waterfall: a row per span, its bar placed on the trace's time line. */
function Waterfall({ trace }: { trace: TraceView }) {
  const start = Math.min(...trace.spans.map((span) => Date.parse(span.startTime)));
  const end = Math.max(...trace.spans.map((span) => Date.parse(span.endTime)));
  const total = Math.max(end - start, 1);
  const services = [...new Set(trace.spans.map((span) => span.service))];
  return (
    <div data-testid="waterfall">
      <p className="muted">
        {trace.spans.length} spans across {services.join(", ")} in {total} ms
        {trace.droppedSpans > 0 ? ` (${trace.droppedSpans} spans dropped)` : ""}
      </p>
      <table className="waterfall">
        <thead>
          <tr>
            <th>service</th>
            <th>span</th>
            <th className="timeline">
              0 ms <span className="right">{total} ms</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {inTreeOrder(trace.spans).map(({ span, depth }) => {
            const left = ((Date.parse(span.startTime) - start) / total) * 100;
            const width = Math.max((span.durationMs / total) * 100, 0.4);
            return (
              <tr key={span.spanId} data-testid="span" data-service={span.service}>
                <td>
                  <span
                    className="dot"
                    style={{ background: serviceColours[span.service] ?? "#6b7280" }}
                  />{" "}
                  {span.service}
                </td>
                <td
                  style={{ paddingLeft: `${0.5 + depth}rem` }}
                  title={JSON.stringify(span.attributes)}
                >
                  <span className={span.status === "error" ? "bad" : ""}>{span.name}</span>{" "}
                  <span className="muted small">{span.kind}</span>
                </td>
                <td className="timeline">
                  <div
                    className="bar"
                    style={{
                      marginLeft: `${Math.min(left, 99.6)}%`,
                      width: `${Math.min(width, 100 - Math.min(left, 99.6))}%`,
                      background:
                        span.status === "error"
                          ? "#dc2626"
                          : (serviceColours[span.service] ?? "#6b7280"),
                    }}
                  />
                  <span className="small muted">{span.durationMs.toFixed(1)} ms</span>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Recent traces from the collector, and one trace (found by the id an answer carried) as a waterfall. */
export function TracesPage({ api }: { api: Api }) {
  const [recent, setRecent] = useState<TraceSummary[] | null>(null);
  const [wanted, setWanted] = useState(traceOfLocation);
  const [trace, setTrace] = useState<TraceView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const loadRecent = useCallback(async () => {
    try {
      const answer = await api.get<{ traces: TraceSummary[] }>("/v1/console/traces?limit=30");
      setRecent(answer.traces);
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [api]);
  const open = useCallback(
    async (traceId: string) => {
      const id = traceId.trim().toLowerCase();
      setError(null);
      setTrace(null);
      if (!id) return;
      history.replaceState(null, "", `/traces?trace=${encodeURIComponent(id)}`);
      try {
        setTrace(await api.get<TraceView>(`/v1/console/traces/${encodeURIComponent(id)}`));
      } catch (failure) {
        setError((failure as Error).message);
      }
    },
    [api],
  );
  useEffect(() => {
    void loadRecent();
    const first = traceOfLocation();
    if (first) void open(first);
  }, [loadRecent, open]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void open(wanted);
  };
  return (
    <section>
      <h2>Traces</h2>
      <p className="muted">
        Every answer of every service names its trace in the <code>x-trace-id</code> header (and an
        error's JSON as <code>trace_id</code>): paste it here to follow the request across services.
      </p>
      <form className="actions" onSubmit={submit}>
        <input
          value={wanted}
          onChange={(event) => setWanted(event.target.value)}
          placeholder="trace id (32 hex digits)"
          size={40}
          data-testid="trace-search"
        />
        <button type="submit" className="primary" data-testid="trace-open">
          Show trace
        </button>
        <button type="button" onClick={() => void loadRecent()}>
          Refresh recent
        </button>
      </form>
      {error && (
        <p className="error" data-testid="trace-error">
          {error}
        </p>
      )}
      {trace && <Waterfall trace={trace} />}
      <h3>Recent traces</h3>
      {!recent ? (
        <p className="muted">Loading…</p>
      ) : recent.length === 0 ? (
        <p className="muted" data-testid="no-traces">
          No trace collected yet.
        </p>
      ) : (
        <table data-testid="recent-traces">
          <thead>
            <tr>
              <th>started</th>
              <th>root span</th>
              <th>services</th>
              <th>spans</th>
              <th>errors</th>
              <th>duration</th>
            </tr>
          </thead>
          <tbody>
            {recent.map((summary) => (
              <tr key={summary.traceId} data-testid="recent-trace" data-id={summary.traceId}>
                <td>{new Date(summary.startTime).toLocaleTimeString()}</td>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() => {
                      setWanted(summary.traceId);
                      void open(summary.traceId);
                    }}
                  >
                    {summary.root || summary.traceId}
                  </button>
                </td>
                <td>{summary.services.join(", ")}</td>
                <td>{summary.spans}</td>
                <td className={summary.errors > 0 ? "bad" : ""}>{summary.errors}</td>
                <td>{Math.round(summary.durationMs)} ms</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
