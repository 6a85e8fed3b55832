/**
 * Sign in with the API key, exchanged for the HttpOnly session cookie (`POST /v0/auth/session`);
 * the key is not kept by the page. A server in development on the well-known key says so.
 */
import { type FormEvent, useState } from "react";

import { errorText, serverClient } from "../api/client";
import { ErrorBanner } from "../components/ui";

function devKeyHint(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="exosphere-dev-key"]')?.content ?? "";
}

export function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const hint = devKeyHint();
  const [key, setKey] = useState(hint);
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    serverClient()
      .signIn(key)
      .then(onSignedIn, (err: unknown) => setError(errorText(err)))
      .finally(() => setBusy(false));
  };
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="card" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title">Exosphere</h1>
        <p>
          Sign in with the state manager's API key (its <code>STATE_MANAGER_SECRET</code>).
        </p>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="current-password"
          value={key}
          onChange={(event) => setKey(event.target.value)}
          autoFocus
          required
        />
        {hint !== "" && (
          <p className="hint">
            Development mode: this server uses the development key <code>{hint}</code> (filled in).
          </p>
        )}
        <ErrorBanner error={error} />
        <button type="submit" className="button primary" disabled={busy || key === ""}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
