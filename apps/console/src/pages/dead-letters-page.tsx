import { useCallback, useEffect, useState } from "react";
import type { Api } from "../api.ts";
import type { DeadLetterView, Snapshot } from "../types.ts";

/** Every dead letter with its reason, payload and attributes; replay chosen ones or all, or drop one. */
export function DeadLettersPage({ api, snapshot }: { api: Api; snapshot: Snapshot | null }) {
  const [letters, setLetters] = useState<DeadLetterView[] | null>(null);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const total = snapshot?.topology.topics.reduce((sum, topic) => sum + topic.dead_letters, 0);
  const load = useCallback(async () => {
    try {
      const answer = await api.get<{ dead_letters: DeadLetterView[] }>("/v1/console/dead-letters");
      setLetters(answer.dead_letters);
      setError(null);
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [api]);
  // Again whenever the live count changes: a letter arrived, or someone replayed or dropped one.
  useEffect(() => {
    void load();
  }, [load, total]);

  const act = async (what: "replay" | "drop", body: unknown) => {
    setMessage(null);
    try {
      const answer = await api.post<{ replayed?: string[]; dropped?: string[] }>(
        `/v1/console/dead-letters:${what}`,
        body,
      );
      const done = answer.replayed ?? answer.dropped ?? [];
      setMessage(
        `${what === "replay" ? "Replayed" : "Dropped"} ${done.length}: ${done.join(", ")}`,
      );
      setChosen(new Set());
      await load();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const toggle = (id: string) =>
    setChosen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  return (
    <section>
      <h2>Dead letters</h2>
      <p className="muted">
        Messages consumers gave up on, kept by the <code>&lt;topic&gt;-dead-letter-sub</code>{" "}
        subscriptions. A replay republishes to the topic for the subscription that failed it; a drop
        removes it for good.
      </p>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={chosen.size === 0}
          data-testid="replay-chosen"
          onClick={() => void act("replay", { ids: [...chosen] })}
        >
          Replay chosen ({chosen.size})
        </button>
        <button
          type="button"
          disabled={!letters?.length}
          data-testid="replay-all"
          onClick={() => {
            if (confirm(`Replay all ${letters?.length ?? 0} dead letters?`))
              void act("replay", { all: true });
          }}
        >
          Replay all
        </button>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {message && (
        <p className="ok" data-testid="dead-letter-message">
          {message}
        </p>
      )}
      {error && <p className="error">{error}</p>}
      {letters === null ? (
        <p className="muted">Loading…</p>
      ) : letters.length === 0 ? (
        <p data-testid="no-dead-letters">No dead letters.</p>
      ) : (
        <ul className="letters">
          {letters.map((letter) => (
            <li key={letter.id} className="card" data-testid="dead-letter" data-id={letter.id}>
              <label className="letter-head">
                <input
                  type="checkbox"
                  checked={chosen.has(letter.id)}
                  onChange={() => toggle(letter.id)}
                  data-testid="choose"
                />
                <strong>{letter.id}</strong>
                <span className="muted">{new Date(letter.publish_time).toLocaleString()}</span>
                <span className="spacer" />
                <button
                  type="button"
                  className="danger"
                  data-testid="drop"
                  onClick={(event) => {
                    event.preventDefault();
                    if (confirm(`Drop ${letter.id} for good? It will never be processed.`))
                      void act("drop", { ids: [letter.id] });
                  }}
                >
                  Drop
                </button>
              </label>
              <p className="reason" data-testid="reason">
                {letter.reason}
              </p>
              {letter.source_subscription && (
                <p className="small muted">from {letter.source_subscription}</p>
              )}
              <table className="attributes">
                <tbody>
                  {Object.entries(letter.attributes).map(([key, value]) => (
                    <tr key={key}>
                      <th>{key}</th>
                      <td>{value}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <pre className="payload" data-testid="payload">
                {letter.payload}
              </pre>
              <p className="small muted">{letter.size} bytes</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
