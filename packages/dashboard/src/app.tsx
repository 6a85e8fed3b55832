/**
 * The app shell: checks for a session (any 401 shows sign-in), then the header (namespace,
 * sections, theme, sign out) and the screen of the current route.
 */
import { useCallback, useEffect, useMemo, useState } from "react";

import { isUnauthorized, serverClient } from "./api/client";
import { AuthContext, useAuth } from "./auth";
import { hrefOf, type Route } from "./lib/routes";
import { Link, RouterProvider, useRouter } from "./router";
import { GraphPage } from "./screens/graph";
import { Home } from "./screens/home";
import { NamespaceOverview } from "./screens/namespace";
import { Nodes } from "./screens/nodes";
import { RunPage } from "./screens/run";
import { Runs } from "./screens/runs";
import { SignIn } from "./screens/sign-in";
import { ThemeContext, useTheme, useThemeState } from "./theme";

type Session = "checking" | "signed-in" | "signed-out";

export function App() {
  const theme = useThemeState();
  const [session, setSession] = useState<Session>("checking");
  useEffect(() => {
    serverClient()
      .listNamespaces()
      .then(
        () => setSession("signed-in"),
        (err: unknown) => setSession(isUnauthorized(err) ? "signed-out" : "signed-in"),
      );
  }, []);
  const signedOut = useCallback(() => setSession("signed-out"), []);
  const signOut = useCallback(async () => {
    await serverClient()
      .signOut()
      .catch(() => undefined);
    setSession("signed-out");
  }, []);
  const auth = useMemo(() => ({ signedOut, signOut }), [signedOut, signOut]);
  return (
    <ThemeContext.Provider value={theme}>
      <AuthContext.Provider value={auth}>
        <RouterProvider>
          {session === "checking" && <p className="spinner">Loading…</p>}
          {session === "signed-out" && <SignIn onSignedIn={() => setSession("signed-in")} />}
          {session === "signed-in" && <Shell />}
        </RouterProvider>
      </AuthContext.Provider>
    </ThemeContext.Provider>
  );
}

function namespaceOf(route: Route): string | undefined {
  return "ns" in route ? route.ns : undefined;
}

function Shell() {
  const { route } = useRouter();
  const ns = namespaceOf(route);
  const theme = useTheme();
  const { signOut } = useAuth();
  useEffect(() => {
    document.title = titleOf(route);
  }, [route]);
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          Exosphere
        </Link>
        {ns !== undefined && (
          <nav aria-label="Sections">
            <Link
              to={hrefOf({ name: "namespace", ns })}
              aria-current={route.name === "namespace" ? "page" : undefined}
            >
              {ns}
            </Link>
            <Link
              to={hrefOf({ name: "runs", ns })}
              aria-current={route.name === "runs" || route.name === "run" ? "page" : undefined}
            >
              Runs
            </Link>
            <Link
              to={hrefOf({ name: "nodes", ns })}
              aria-current={route.name === "nodes" ? "page" : undefined}
            >
              Nodes
            </Link>
          </nav>
        )}
        <span className="spacer" />
        <button
          type="button"
          className="button"
          onClick={theme.toggle}
          aria-label="Toggle dark mode"
        >
          {theme.theme === "dark" ? "☀ Light" : "☾ Dark"}
        </button>
        <button type="button" className="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case "home":
      return <Home />;
    case "namespace":
      return <NamespaceOverview key={route.ns} ns={route.ns} />;
    case "runs":
      return <Runs key={route.ns} ns={route.ns} />;
    case "run":
      return <RunPage key={`${route.ns}/${route.runId}`} ns={route.ns} runId={route.runId} />;
    case "graph":
      return <GraphPage key={`${route.ns}/${route.graph}`} ns={route.ns} graph={route.graph} />;
    case "nodes":
      return <Nodes key={route.ns} ns={route.ns} />;
    case "not-found":
      return (
        <section>
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <Link to="/">Go to the namespaces.</Link>
          </p>
        </section>
      );
  }
}

function titleOf(route: Route): string {
  switch (route.name) {
    case "home":
      return "Exosphere";
    case "namespace":
      return `${route.ns} · Exosphere`;
    case "runs":
      return `Runs · ${route.ns} · Exosphere`;
    case "run":
      return `Run ${route.runId.slice(0, 8)} · ${route.ns} · Exosphere`;
    case "graph":
      return `${route.graph} · ${route.ns} · Exosphere`;
    case "nodes":
      return `Nodes · ${route.ns} · Exosphere`;
    case "not-found":
      return "Not found · Exosphere";
  }
}
