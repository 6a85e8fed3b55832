/**
 * What every command and query is given: the engine's collaborators, its limits and the two ways
 * to touch the store (a unit of work that writes and settles, or a plain transaction).
 */
import type { Logger } from "pino";

import type { IdSource, State } from "../domain/model.js";
import type { ClaimRequest, StoreTx } from "../storage/store.js";
import type { Clock } from "./clock.js";
import type { Dispatcher } from "./dispatch/dispatcher.js";
import type { GraphCache } from "./graph-cache.js";
import type { JoinEngine } from "./join-engine.js";
import type { EngineObserver } from "./observer.js";
import type { SecretsCipher } from "./secrets-cipher.js";
import type { UnitOfWork } from "./unit-of-work.js";

export interface EngineLimits {
  /** Lease given to a claim when the claimer asks for none. */
  readonly leaseMs: number;
  /** Most outputs one `executed` report may carry. */
  readonly maxFanout: number;
}

export interface EngineContext {
  readonly clock: Clock;
  readonly ids: IdSource;
  /** Uniform [0, 1) source for retry jitter. */
  readonly random: () => number;
  readonly log: Logger;
  readonly graphs: GraphCache;
  readonly cipher: SecretsCipher;
  readonly dispatcher: Dispatcher;
  readonly joins: JoinEngine;
  readonly limits: EngineLimits;
  /** Told what the engine did (metrics); units of work tell it after commit. */
  readonly observer: EngineObserver;
  /** The store runs transactions one at a time (see StoreCapabilities). */
  readonly serializedTransactions: boolean;
  /** Runs `fn` as one unit of work: a transaction, its follow-ups and its wake-ups. */
  write<T>(fn: (uow: UnitOfWork) => Promise<T>): Promise<T>;
  /** Runs `fn` in one transaction, without follow-ups (reads, lease extensions). */
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** A claim as a transaction of its own (Store.claim): one round trip where the store can. */
  claim(request: ClaimRequest): Promise<State[]>;
}
