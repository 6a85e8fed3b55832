/**
 * What the engine tells an observer (metrics) about the work it did. Events of a unit of work are
 * delivered after it commits, so a rolled-back transaction counts nothing; claims, which commit
 * in a plain transaction, are delivered right after theirs. Observers must be cheap and must not
 * throw: they run on the request path.
 */
import type { RunStatus, StateStatus } from "../domain/statuses.js";

export type EngineEvent =
  /** A claimed state was reported (or its lease expired) and left QUEUED for `status`. */
  | {
      readonly kind: "state-reported";
      readonly namespace: string;
      readonly node: string;
      readonly status: StateStatus;
      /** How long it was held: from its claim to the report. Null if the claim time is unknown. */
      readonly heldMs: number | null;
      readonly leaseExpired: boolean;
    }
  /** A failed attempt got another one under its retry policy. */
  | { readonly kind: "retry-created"; readonly namespace: string; readonly node: string }
  /** States were claimed; `waitedMs` is how long each had been runnable. */
  | {
      readonly kind: "states-claimed";
      readonly states: readonly { namespace: string; node: string; waitedMs: number }[];
    }
  /** Pending states of a cancelled run were cancelled (one node name per state). */
  | {
      readonly kind: "states-cancelled";
      readonly namespace: string;
      readonly nodes: readonly string[];
    }
  | {
      readonly kind: "run-started";
      readonly namespace: string;
      readonly graph: string;
      readonly origin: string;
    }
  | {
      readonly kind: "run-finished";
      readonly namespace: string;
      readonly graph: string;
      readonly status: RunStatus;
    }
  /** A cron instant was claimed: it started a run, or `failed` to (recorded on the fire). */
  | {
      readonly kind: "cron-fired";
      readonly namespace: string;
      readonly graph: string;
      readonly catchUp: boolean;
      readonly failed: boolean;
    };

export interface EngineObserver {
  observe(event: EngineEvent): void;
}

export const NO_OBSERVER: EngineObserver = { observe: () => undefined };
