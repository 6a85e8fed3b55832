/**
 * A unit of work: one transaction, the follow-ups its writes leave (join checks, run
 * completion) and the wake-ups to publish once it committed. Commands write through
 * `UnitOfWork`; `UnitOfWorkRunner` decides where the follow-ups run (see `settle`).
 */
import type { Logger } from "pino";

import { uniteKey } from "../domain/joins.js";
import type { State } from "../domain/model.js";
import type { Store, StoreTx } from "../storage/store.js";
import type { Wakeup } from "../storage/wakeup-bus.js";
import type { Clock } from "./clock.js";
import type { Dispatcher } from "./dispatch/dispatcher.js";
import type { LoadedGraph } from "./graph-cache.js";
import type { EngineEvent, EngineObserver } from "./observer.js";

/** The join of unite node `unite` over target state `targetId`, to check. */
export interface JoinCheck {
  readonly runId: string;
  readonly graph: LoadedGraph;
  readonly unite: string;
  readonly targetId: string;
}

/** What settles the follow-ups of a unit of work (the join engine). */
export interface Settler {
  settle(uow: UnitOfWork): Promise<void>;
  /**
   * Inside the unit's own transaction, on a store whose transactions overlap: settles what the
   * unit can already see is settled and takes it off the unit's follow-ups, leaving the rest to
   * {@link settle} after commit.
   */
  settleVisible(uow: UnitOfWork): Promise<void>;
}

export class UnitOfWork {
  /** Join checks to run, by group key (each group once). */
  readonly joins = new Map<string, JoinCheck>();
  /** Runs whose completion to check. */
  readonly runs = new Set<string>();
  readonly wakeups: Wakeup[] = [];
  /** What to tell the observer once the transaction committed. */
  readonly events: EngineEvent[] = [];

  /** `now` is read once, when the transaction starts: every write of the unit shares it. */
  constructor(
    readonly tx: StoreTx,
    readonly now: number,
  ) {}

  checkJoin(check: JoinCheck): void {
    this.joins.set(uniteKey(check.unite, check.targetId), check);
  }

  checkRun(runId: string): void {
    this.runs.add(runId);
  }

  /** The run was settled: no check of it is left. */
  runSettled(runId: string): void {
    this.runs.delete(runId);
  }

  /** Publishes a wake-up after commit if the state is waiting to be claimed. */
  wake(state: Pick<State, "namespace" | "node_name" | "enqueue_after" | "status">): void {
    if (state.status === "CREATED") {
      this.wakeups.push({
        namespace: state.namespace,
        nodeName: state.node_name,
        runnableAt: state.enqueue_after,
      });
    }
  }

  /** Tells the engine's observer about `event` after commit (never if the unit rolls back). */
  observe(event: EngineEvent): void {
    this.events.push(event);
  }

  get hasFollowups(): boolean {
    return this.joins.size > 0 || this.runs.size > 0;
  }

  /** A unit for the same follow-ups in another transaction. */
  continueIn(tx: StoreTx, now: number): UnitOfWork {
    const next = new UnitOfWork(tx, now);
    for (const check of this.joins.values()) next.checkJoin(check);
    for (const runId of this.runs) next.checkRun(runId);
    return next;
  }
}

export interface UnitOfWorkRunnerOptions {
  readonly store: Store;
  readonly clock: Clock;
  readonly dispatcher: Dispatcher;
  readonly settler: Settler;
  readonly logger: Logger;
  readonly observer: EngineObserver;
}

export class UnitOfWorkRunner {
  readonly #options: UnitOfWorkRunnerOptions;

  constructor(options: UnitOfWorkRunnerOptions) {
    this.#options = options;
  }

  /**
   * Runs `fn` in a transaction, then settles joins and runs: inside the same transaction when
   * the store serialises transactions, else in a second one after commit, so that it sees
   * every concurrent commit (the run sweeper covers a crash in between; see
   * StoreCapabilities.serializedTransactions). There, what the unit can already see is settled
   * (a run with nothing pending left) is settled in its own transaction first, and the second
   * transaction is left out when nothing remains (decision 0002). Wake-ups go out after commit.
   */
  async run<T>(fn: (uow: UnitOfWork) => Promise<T>): Promise<T> {
    const { store, clock, settler, logger } = this.#options;
    const inline = store.capabilities.serializedTransactions;
    let unit: UnitOfWork | undefined;
    const result = await store.transaction(async (tx) => {
      unit = new UnitOfWork(tx, clock.now());
      const value = await fn(unit);
      await (inline ? settler.settle(unit) : settler.settleVisible(unit));
      return value;
    });
    const done = unit as UnitOfWork;
    const wakeups = [...done.wakeups];
    const events = [...done.events];
    if (!inline && done.hasFollowups) {
      try {
        // The last attempt's wake-ups only: a retried transaction runs the closure again.
        const settled = await store.transaction(async (tx) => {
          const next = done.continueIn(tx, clock.now());
          await settler.settle(next);
          return next;
        });
        wakeups.push(...settled.wakeups);
        events.push(...settled.events);
      } catch (err) {
        logger.error({ err }, "settling joins and runs failed; the sweeper will retry");
      }
    }
    for (const w of wakeups) this.#options.dispatcher.notify(w);
    for (const e of events) this.#options.observer.observe(e);
    return result;
  }
}
