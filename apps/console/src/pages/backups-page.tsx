import { useCallback, useEffect, useState } from "react";
import { type Api, ApiError } from "../api.ts";
import type { BackupConfigView, BackupView, RestoreReport, Snapshot } from "../types.ts";

function bytes(n: number): string {
  if (n < 1_024) return `${n} B`;
  if (n < 1_048_576) return `${(n / 1_024).toFixed(1)} KiB`;
  return `${(n / 1_048_576).toFixed(1)} MiB`;
}

/** A restore's per-collection report: what it did, or on a dry run would do. */
function Report({ report }: { report: RestoreReport }) {
  return (
    <div className="card" data-testid="restore-report" data-dry-run={String(report.dry_run)}>
      <strong>
        {report.dry_run ? "Dry run of" : "Restored"} {report.backup_id}: {report.documents}{" "}
        documents
      </strong>
      <table className="report">
        <thead>
          <tr>
            <th>collection</th>
            <th>into</th>
            <th>documents</th>
            <th>new</th>
            <th>changed</th>
            <th>unchanged</th>
            <th>deleted since</th>
            <th>undeleted</th>
          </tr>
        </thead>
        <tbody>
          {report.collections.map((c) => (
            <tr key={c.name} data-testid="report-row" data-collection={c.name}>
              <td>{c.name}</td>
              <td data-testid="report-target">{c.target}</td>
              <td>{c.documents}</td>
              <td data-testid="report-new">{c.new}</td>
              <td>{c.changed}</td>
              <td>{c.unchanged}</td>
              <td>{c.deleted_since}</td>
              <td>{c.undeleted}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Every backup in records or in the bucket (the ones without a record marked), with status,
 * counts and size; request one and see it complete live; restore one as a dry run or into a
 * prefix. Through the backup service's admin routes, with the admin's own token.
 */
export function BackupsPage({ api, snapshot }: { api: Api; snapshot: Snapshot | null }) {
  const [backups, setBackups] = useState<BackupView[] | null>(null);
  const [config, setConfig] = useState<BackupConfigView | string | null>(null);
  const [prefix, setPrefix] = useState("restored_");
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [report, setReport] = useState<RestoreReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The live snapshot carries the latest records' states: a change reloads the listing.
  const states = JSON.stringify(snapshot?.backups ?? []);
  const load = useCallback(async () => {
    try {
      const answer = await api.get<{ backups: BackupView[] }>("/v1/console/backups");
      setBackups(answer.backups);
    } catch (failure) {
      setError((failure as Error).message);
    }
  }, [api]);
  useEffect(() => {
    void load();
  }, [load, states]);
  useEffect(() => {
    api
      .get<BackupConfigView>("/v1/console/backups/config")
      .then(setConfig, (failure: unknown) =>
        setConfig(
          failure instanceof ApiError && failure.status === 404
            ? "config/backup does not exist: a backup requested now is recorded as skipped."
            : (failure as Error).message,
        ),
      );
  }, [api]);

  const request = async () => {
    setError(null);
    try {
      const answer = await api.post<{ id: string }>("/v1/console/backups", {});
      setMessage(`Requested backup ${answer.id}`);
      await load();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const restore = async (backup: BackupView, dryRun: boolean) => {
    setError(null);
    setReport(null);
    setBusy(backup.id);
    try {
      const body = {
        ...(dryRun ? { dry_run: true } : {}),
        ...(prefix ? { prefix } : {}),
        ...(backup.bucket ? { bucket: backup.bucket } : {}),
      };
      setReport(
        await api.post<RestoreReport>(
          `/v1/console/backups/${encodeURIComponent(backup.id)}:restore`,
          body,
        ),
      );
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section>
      <h2>Backups</h2>
      {config === null ? null : typeof config === "string" ? (
        <p className="muted" data-testid="backup-config">
          {config}
        </p>
      ) : (
        <p className="muted" data-testid="backup-config">
          config/backup: <strong>{config.state}</strong>
          {config.problem ? ` (${config.problem})` : ""} · collections{" "}
          {config.collections.join(", ")} · bucket {config.storage_bucket} · kept{" "}
          {config.retention_days} days
        </p>
      )}
      <div className="actions">
        <button type="button" className="primary" onClick={request} data-testid="request-backup">
          Request a backup
        </button>
        <label>
          Restore into prefix{" "}
          <input
            value={prefix}
            onChange={(event) => setPrefix(event.target.value)}
            size={14}
            data-testid="restore-prefix"
          />
        </label>
        <span className="muted small">(empty: in place, over live data)</span>
      </div>
      {message && (
        <p className="ok" data-testid="backup-message">
          {message}
        </p>
      )}
      {error && (
        <p className="error" data-testid="backup-error">
          {error}
        </p>
      )}
      {report && <Report report={report} />}
      {!backups ? (
        <p className="muted">Loading…</p>
      ) : backups.length === 0 ? (
        <p className="muted" data-testid="no-backups">
          No backup in records or in the bucket.
        </p>
      ) : (
        <table data-testid="backups">
          <thead>
            <tr>
              <th>backup</th>
              <th>status</th>
              <th>created</th>
              <th>documents</th>
              <th>size</th>
              <th>bucket</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {backups.map((backup) => (
              <tr
                key={backup.id}
                data-testid="backup"
                data-id={backup.id}
                data-status={backup.status}
              >
                <td>
                  {backup.id}
                  <div className="small muted">
                    {backup.type ?? ""}
                    {backup.has_record ? "" : " no record (found in the bucket only)"}
                  </div>
                </td>
                <td data-testid="backup-status" className={backup.status === "failed" ? "bad" : ""}>
                  {backup.status}
                  {backup.reason ? <div className="small">{backup.reason}</div> : null}
                </td>
                <td>{backup.created_at ? new Date(backup.created_at).toLocaleString() : "–"}</td>
                <td>
                  {backup.document_count ?? "–"}
                  <div className="small muted">
                    {backup.collections.map((c) => `${c.name} ${c.documents}`).join(", ")}
                  </div>
                </td>
                <td>
                  {bytes(backup.bytes)}
                  <div className="small muted">{backup.objects} objects</div>
                </td>
                <td className="small">{backup.bucket ?? "–"}</td>
                <td>
                  {backup.status === "completed" && (
                    <span className="actions">
                      <button
                        type="button"
                        disabled={busy !== null}
                        onClick={() => void restore(backup, true)}
                        data-testid="dry-run"
                      >
                        Dry run
                      </button>
                      <button
                        type="button"
                        disabled={busy !== null}
                        onClick={() => {
                          const where = prefix ? `into ${prefix}<collection>` : "in place";
                          if (confirm(`Restore ${backup.id} ${where}?`))
                            void restore(backup, false);
                        }}
                        data-testid="restore"
                      >
                        Restore
                      </button>
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {busy && <p className="muted">Restoring {busy}…</p>}
    </section>
  );
}
