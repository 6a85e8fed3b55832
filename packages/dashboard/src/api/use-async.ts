/**
 * Loads data for a screen and keeps the last good value while reloading, so live refreshes never
 * blank the screen (no flicker) and an error shows next to what was already there.
 */
import { useCallback, useEffect, useRef, useState } from "react";

import { useAuth } from "../auth";
import { errorText, isUnauthorized } from "./client";

export interface AsyncValue<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  reload(): void;
}

export function useAsync<T>(load: () => Promise<T>, deps: readonly unknown[]): AsyncValue<T> {
  const { signedOut } = useAuth();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;
  // Reloads coalesce: at most one request in flight, one more queued.
  const inFlight = useRef(false);
  const queued = useRef(false);

  const run = useCallback(() => {
    if (inFlight.current) {
      queued.current = true;
      return;
    }
    inFlight.current = true;
    const mine = generation.current;
    setLoading(true);
    loader
      .current()
      .then(
        (value) => {
          if (mine !== generation.current) return;
          setData(value);
          setError(undefined);
        },
        (err: unknown) => {
          if (mine !== generation.current) return;
          if (isUnauthorized(err)) signedOut();
          setError(errorText(err));
        },
      )
      .finally(() => {
        inFlight.current = false;
        if (mine === generation.current) setLoading(false);
        if (queued.current) {
          queued.current = false;
          run();
        }
      });
  }, [signedOut]);

  useEffect(() => {
    generation.current += 1;
    inFlight.current = false;
    queued.current = false;
    setData(undefined);
    setError(undefined);
    run();
  }, deps);

  return { data, error, loading, reload: run };
}
