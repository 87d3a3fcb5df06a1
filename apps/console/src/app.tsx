import { type Auth, onAuthStateChanged, signOut, type User } from "firebase/auth";
import { useEffect, useMemo, useState } from "react";
import { Api, ApiError } from "./api.ts";
import type { ConsoleConfig } from "./config.ts";
import { AnalyticsPage } from "./pages/analytics-page.tsx";
import { BackupsPage } from "./pages/backups-page.tsx";
import { DataPage } from "./pages/data-page.tsx";
import { DeadLettersPage } from "./pages/dead-letters-page.tsx";
import { TopologyPage } from "./pages/topology-page.tsx";
import { TracesPage } from "./pages/traces-page.tsx";
import { SignIn } from "./sign-in.tsx";
import type { Snapshot } from "./types.ts";

/** The console's pages, by path. */
const pages = [
  { path: "/", title: "Topology" },
  { path: "/dead-letters", title: "Dead letters" },
  { path: "/analytics", title: "Analytics" },
  { path: "/data", title: "Data" },
  { path: "/backups", title: "Backups" },
  { path: "/traces", title: "Traces" },
] as const;
type PagePath = (typeof pages)[number]["path"];

function currentPath(): PagePath {
  const found = pages.find((page) => page.path === location.pathname);
  return found?.path ?? "/";
}

/** Signs in, then shows the page the path names with the live snapshot every page shares. */
export function App({ auth, config }: { auth: Auth; config: ConsoleConfig }) {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  const [refused, setRefused] = useState<string | null>(null);
  const [path, setPath] = useState<PagePath>(currentPath);
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);
  const [liveState, setLiveState] = useState("connecting");
  const api = useMemo(() => (user ? new Api(user) : null), [user]);

  useEffect(() => onAuthStateChanged(auth, setUser), [auth]);
  useEffect(() => {
    const back = () => setPath(currentPath());
    addEventListener("popstate", back);
    return () => removeEventListener("popstate", back);
  }, []);
  useEffect(() => {
    if (!api) return;
    let stopped = false;
    // The first snapshot by a plain request: it also tells an admin from anyone else.
    api.get<Snapshot>("/v1/console/topology").then(
      (first) => {
        if (!stopped) setSnapshot((current) => current ?? first);
      },
      async (error: unknown) => {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          setRefused(error.message);
          await signOut(auth);
        }
      },
    );
    const stop = api.live((next) => setSnapshot(next as Snapshot), setLiveState);
    return () => {
      stopped = true;
      stop();
    };
  }, [api, auth]);

  if (user === undefined) return <p className="muted center">Loading…</p>;
  if (user === null || !api) return <SignIn auth={auth} refused={refused} />;
  const go = (to: PagePath) => {
    history.pushState(null, "", to);
    setPath(to);
  };
  return (
    <div className="layout">
      <nav className="nav">
        <strong className="brand">syncstack console</strong>
        {pages.map((page) => (
          <a
            key={page.path}
            href={page.path}
            className={page.path === path ? "active" : ""}
            data-testid={`nav-${page.path === "/" ? "topology" : page.path.slice(1)}`}
            onClick={(event) => {
              event.preventDefault();
              go(page.path);
            }}
          >
            {page.title}
          </a>
        ))}
        <span className="spacer" />
        <span className="muted" data-testid="live-state">
          {liveState}
        </span>
        <span className="muted">{user.email}</span>
        <button type="button" onClick={() => void signOut(auth)}>
          Sign out
        </button>
      </nav>
      <main className="page">
        {path === "/" && <TopologyPage snapshot={snapshot} telemetry={config.telemetry} />}
        {path === "/dead-letters" && <DeadLettersPage api={api} snapshot={snapshot} />}
        {path === "/analytics" && <AnalyticsPage api={api} snapshot={snapshot} />}
        {path === "/data" && <DataPage api={api} />}
        {path === "/backups" && <BackupsPage api={api} snapshot={snapshot} />}
        {path === "/traces" && <TracesPage api={api} />}
      </main>
    </div>
  );
}
