import { sleepOn } from "./clock.js";
import type { HeldState, HeldStates } from "./held-states.js";
import type { LeaseKeeper } from "./lease-keeper.js";
import type { Reporter } from "./reporter.js";
import { describeError } from "./runtime-logging.js";
import type { RuntimeOptionsWithDefaults } from "./runtime-options.js";

/** What the shutdown sequence works on: the runtime's parts. */
export interface ShutdownDeps {
  readonly options: RuntimeOptionsWithDefaults;
  readonly held: HeldStates;
  readonly leases: LeaseKeeper;
  readonly reporter: Reporter;
  /** Aborted here first: ends claiming (the claim in flight is released) and registration. */
  readonly stop: AbortController;
  /** Aborted when the grace period ends (or on a second SIGINT/SIGTERM). */
  readonly hardStop: AbortController;
  /** Settles once the claim loop has ended and handed over its last answer. */
  readonly claimLoop: Promise<void> | undefined;
  /** The executions (and their reports) in progress. */
  readonly inflight: () => Promise<void>[];
  /** Give-backs started elsewhere (states claimed after the stop began). */
  readonly pendingGiveBacks: () => Promise<unknown>[];
  /** Give one held state back to the queue and release it. */
  readonly giveBack: (held: HeldState) => Promise<unknown>;
}

/**
 * Stop a runtime without stranding any state:
 *
 * 1. stop claiming; the claim in flight is released, not dropped, and whatever it still brings
 *    is given back as it arrives;
 * 2. give back every claimed state that has not started, at once (E12 with 1 ms: no retry is
 *    consumed, another runtime can take it right away);
 * 3. let running states finish and report until `shutdownGraceMs` has passed;
 * 4. then abort the executions still running (their `signal`), give their states back too, and
 *    stop every heartbeat.
 *
 * Never rejects.
 */
export async function shutDown(deps: ShutdownDeps): Promise<void> {
  const { options, held, reporter } = deps;
  const { logger, clock } = options;
  const graceEndsAt = clock.now() + options.shutdownGraceMs;
  deps.stop.abort(new Error(`Runtime "${options.name}" is stopping`));
  held.wake();
  try {
    const unstarted = held.takeBuffered();
    if (unstarted.length > 0) {
      logger.info("giving back claimed states that did not start", {
        runtime: options.name,
        count: unstarted.length,
      });
    }
    const givenBack = unstarted.map((state) => deps.giveBack(state));
    // The grace timer runs from the stop on; a second signal ends it early.
    const graceOver = sleepOn(clock, Math.max(0, graceEndsAt - clock.now()), deps.hardStop.signal);
    await Promise.race([deps.claimLoop, graceOver]);
    reporter.flush();
    await Promise.all([...givenBack, ...deps.pendingGiveBacks()]);

    const running = deps.inflight();
    if (running.length > 0) {
      logger.info("waiting for running states to finish", {
        runtime: options.name,
        running: running.length,
        graceMs: Math.max(0, graceEndsAt - clock.now()),
      });
      await Promise.race([Promise.allSettled(running), graceOver]);
    }

    deps.hardStop.abort(new Error(`Runtime "${options.name}" stopped`));
    const abandoned = held.all().filter((state) => state.phase === "running");
    if (abandoned.length > 0) {
      logger.warn("grace period over; giving back the states still running", {
        runtime: options.name,
        stateIds: abandoned.map((state) => state.state.state_id),
      });
      for (const state of abandoned) {
        state.abort.abort(new Error(`Runtime "${options.name}" stopped before the node finished`));
      }
    }
    // Aborted executions and reports settle at once; what they leave held goes back.
    await Promise.allSettled(deps.inflight());
    await Promise.all([
      ...deps.pendingGiveBacks(),
      ...held.all().map((state) => deps.giveBack(state)),
    ]);
  } catch (err) {
    logger.error("unexpected failure during shutdown", {
      runtime: options.name,
      error: describeError(err),
    });
  } finally {
    deps.hardStop.abort();
    deps.leases.untrackAll();
  }
}
