import { useEffect, useRef, useState } from "react";
import type { ServiceView, Snapshot, SubscriptionRates, TopicView } from "../types.ts";

const rowHeight = 84;
const nodeWidth = 170;
const columns = { producer: 20, topic: 330, consumer: 720 };

interface Node {
  key: string;
  label: string;
  x: number;
  y: number;
  kind: "service" | "topic" | "external";
}

/** Dead letters added per topic over the last minute, from the snapshots the page has seen. */
function useFailureRates(topics: TopicView[] | undefined): Record<string, number> {
  const seen = useRef<{ at: number; counts: Record<string, number> }[]>([]);
  const [rates, setRates] = useState<Record<string, number>>({});
  useEffect(() => {
    if (!topics) return;
    const now = Date.now();
    const counts = Object.fromEntries(topics.map((topic) => [topic.name, topic.dead_letters]));
    seen.current = [
      ...seen.current.filter((entry) => entry.at > now - 60_000),
      { at: now, counts },
    ];
    const first = seen.current[0]?.counts ?? counts;
    setRates(
      Object.fromEntries(
        topics.map((topic) => [
          topic.name,
          Math.max(0, topic.dead_letters - (first[topic.name] ?? 0)),
        ]),
      ),
    );
  }, [topics]);
  return rates;
}

function healthOf(services: ServiceView[], name: string): ServiceView["health"] {
  return services.find((service) => service.name === name)?.health ?? "unknown";
}

/** The registry's topics, subscriptions and services as a graph, with dead letters live. */
export function TopologyPage({
  snapshot,
  telemetry,
}: {
  snapshot: Snapshot | null;
  telemetry: boolean;
}) {
  const topology = snapshot?.topology;
  const metrics = snapshot?.metrics;
  const rates = useFailureRates(topology?.topics);
  if (!topology) return <p className="muted">Loading the topology…</p>;
  const flow = (subscription: string): SubscriptionRates | undefined =>
    metrics?.subscriptions[subscription];
  const serviceLine = (name: string): string => {
    if (!metrics?.source) return "";
    const parts = [`${metrics.requests_per_min[name] ?? 0} req/min`];
    if (name === "sync" && metrics.outbox_backlog !== null) {
      parts.push(`outbox ${metrics.outbox_backlog}`);
    }
    return parts.join(" · ");
  };
  const producers = [
    ...new Set(
      topology.topics.flatMap((topic) => [
        ...topic.publishers,
        ...(topic.scheduled ? ["scheduler"] : []),
      ]),
    ),
  ];
  const consumers = [
    ...new Set(topology.topics.flatMap((topic) => topic.subscriptions.map((s) => s.service))),
  ];
  const rows = Math.max(producers.length, consumers.length, topology.topics.length);
  const height = rows * rowHeight + 20;
  const place = (
    names: string[],
    x: number,
    kind: (name: string) => Node["kind"],
    prefix: string,
  ) =>
    names.map(
      (name, i): Node => ({
        key: `${prefix}:${name}`,
        label: name,
        x,
        y: 10 + i * ((height - 20) / names.length) + ((height - 20) / names.length - 56) / 2,
        kind: kind(name),
      }),
    );
  const producerNodes = place(
    producers,
    columns.producer,
    (n) => (n === "scheduler" ? "external" : "service"),
    "p",
  );
  const topicNodes = place(
    topology.topics.map((t) => t.name),
    columns.topic,
    () => "topic",
    "t",
  );
  const consumerNodes = place(consumers, columns.consumer, () => "service", "c");
  const at = (nodes: Node[], name: string) => nodes.find((node) => node.label === name);
  const edges = topology.topics.flatMap((topic) => {
    const t = at(topicNodes, topic.name);
    if (!t) return [];
    const from = [...topic.publishers, ...(topic.scheduled ? ["scheduler"] : [])].flatMap(
      (name) => {
        const p = at(producerNodes, name);
        return p
          ? [
              {
                key: `${p.key}>${t.key}`,
                x1: p.x + nodeWidth,
                y1: p.y + 28,
                x2: t.x,
                y2: t.y + 28,
                bad: false,
                subscription: null as string | null,
              },
            ]
          : [];
      },
    );
    const to = topic.subscriptions.flatMap((s) => {
      const c = at(consumerNodes, s.service);
      return c
        ? [
            {
              key: `${t.key}>${c.key}`,
              x1: t.x + nodeWidth,
              y1: t.y + 28,
              x2: c.x,
              y2: c.y + 28,
              bad: !s.exists,
              subscription: s.name,
            },
          ]
        : [];
    });
    return [...from, ...to];
  });
  return (
    <section>
      <h2>Topology</h2>
      <p className="muted">
        Topics, subscriptions and services from the registry, checked against Pub/Sub; dead letters
        live.
        {telemetry
          ? " Messages and requests per minute (averaged over the last minute locally, five minutes on Google Cloud), failures and the outbox backlog from the services' metrics."
          : " Message rates need the telemetry collector, which is not running."}
        {metrics?.as_of ? ` Metrics as of ${new Date(metrics.as_of).toLocaleTimeString()}.` : ""}
      </p>
      {metrics?.error && <p className="error">Metrics: {metrics.error}</p>}
      {topology.pubsub_error && <p className="error">Pub/Sub: {topology.pubsub_error}</p>}
      <svg
        className="graph"
        viewBox={`0 0 ${columns.consumer + nodeWidth + 20} ${height}`}
        data-testid="topology-graph"
      >
        <title>Topology graph</title>
        {edges.map((edge) => (
          <path
            key={edge.key}
            d={`M${edge.x1},${edge.y1} C${edge.x1 + 70},${edge.y1} ${edge.x2 - 70},${edge.y2} ${edge.x2},${edge.y2}`}
            className={edge.bad ? "edge missing" : "edge"}
          />
        ))}
        {edges.map((edge) => {
          const rate = edge.subscription ? flow(edge.subscription) : undefined;
          if (!rate) return null;
          const failing = rate.failed_per_min + rate.dead_lettered_per_min > 0;
          // The curve's middle: edges of one topic or one consumer part there.
          const x = (edge.x1 + edge.x2) / 2;
          const y = (edge.y1 + edge.y2) / 2 - 4;
          return (
            <text
              key={`${edge.key}-rate`}
              x={x}
              y={y}
              textAnchor="middle"
              className={failing ? "small bad rate" : "small rate"}
              data-testid="edge-rate"
              data-subscription={edge.subscription}
            >
              {rate.handled_per_min}/min
              {rate.failed_per_min > 0 ? `, ${rate.failed_per_min} failed` : ""}
              {rate.dead_lettered_per_min > 0 ? `, ${rate.dead_lettered_per_min} dead` : ""}
            </text>
          );
        })}
        {[...producerNodes, ...consumerNodes].map((node) => {
          const health = node.kind === "service" ? healthOf(topology.services, node.label) : "ok";
          return (
            <g
              key={node.key}
              transform={`translate(${node.x},${node.y})`}
              data-testid="graph-service"
            >
              <rect width={nodeWidth} height={56} rx={8} className={`node ${node.kind}`} />
              <circle cx={16} cy={28} r={6} className={`health ${health}`} />
              <text x={30} y={node.kind === "service" && metrics?.source ? 24 : 33}>
                {node.label}
              </text>
              {node.kind === "service" && metrics?.source ? (
                <text x={30} y={44} className="small" data-testid="service-rate">
                  {serviceLine(node.label)}
                </text>
              ) : null}
            </g>
          );
        })}
        {topicNodes.map((node) => {
          const topic = topology.topics.find((t) => t.name === node.label) as TopicView;
          return (
            <g
              key={node.key}
              transform={`translate(${node.x},${node.y})`}
              data-testid="graph-topic"
              data-topic={topic.name}
            >
              <rect width={nodeWidth} height={56} rx={4} className="node topic" />
              <text x={10} y={22}>
                {topic.name}
              </text>
              <text x={10} y={44} className={topic.dead_letters > 0 ? "small bad" : "small"}>
                {topic.dead_letters} dead · +{rates[topic.name] ?? 0}/min
              </text>
            </g>
          );
        })}
      </svg>
      <table data-testid="subscriptions">
        <thead>
          <tr>
            <th>topic</th>
            <th>subscription</th>
            <th>delivery</th>
            <th>in Pub/Sub</th>
            <th>ack deadline</th>
            <th>its dead letters</th>
            <th>topic's new dead letters / min</th>
            <th>handled / min</th>
            <th>failed / min</th>
            <th>dead-lettered / min</th>
          </tr>
        </thead>
        <tbody>
          {topology.topics.flatMap((topic) =>
            topic.subscriptions.map((s) => (
              <tr key={s.name} data-testid="subscription-row">
                <td>{topic.name}</td>
                <td>
                  {s.name}
                  {s.filter ? <div className="small muted">filter: {s.filter}</div> : null}
                </td>
                <td>
                  {s.delivery}
                  {s.ordered ? ", ordered" : ""}
                </td>
                <td className={s.exists ? "" : "bad"}>{s.exists ? "yes" : "missing"}</td>
                <td>{s.ack_deadline_seconds} s</td>
                <td data-testid="dead-letter-count">{s.dead_letters}</td>
                <td>{rates[topic.name] ?? 0}</td>
                <td data-testid="handled-rate">{flow(s.name)?.handled_per_min ?? "–"}</td>
                <td className={(flow(s.name)?.failed_per_min ?? 0) > 0 ? "bad" : ""}>
                  {flow(s.name)?.failed_per_min ?? "–"}
                </td>
                <td className={(flow(s.name)?.dead_lettered_per_min ?? 0) > 0 ? "bad" : ""}>
                  {flow(s.name)?.dead_lettered_per_min ?? "–"}
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      <h3>Services</h3>
      <ul className="services">
        {topology.services.map((service) => (
          <li key={service.name} data-testid="service-health">
            <span className={`dot ${service.health}`} /> {service.name} {service.health}
            {service.url ? <span className="muted"> · {service.url}</span> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
