/**
 * What differs between backends, stated as data (kysely's adapter flags) instead of branches on
 * a dialect name. Every backend documents its values; the engine reads only these.
 */
export interface StoreCapabilities {
  /**
   * Transactions never run concurrently (SQLite's single writer). The engine then settles joins
   * and run completion inside the transaction that caused them. Otherwise (PostgreSQL) it does
   * so in a follow-up transaction after commit, which sees every concurrent commit: two branches
   * finishing at once in two transactions would each miss the other's write inside their own.
   * The run sweeper repeats that step for a process that died between the two. See
   * docs/decisions/0002-settle-after-commit.md.
   */
  readonly serializedTransactions: boolean;
  /**
   * Several state-manager processes may share the database, so wake-ups must cross processes
   * (the store's `WakeupBus` does it) and the sweeper must run on an interval, not only at start.
   */
  readonly multiProcess: boolean;
}
