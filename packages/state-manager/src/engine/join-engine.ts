/**
 * Joins and run completion: keeps each state's membership rows in its join groups, checks the
 * groups its changes touch, creates the one unite state a join makes (the unique `unite_key`
 * makes it fire once, whichever transaction gets there first), and finishes runs that have
 * nothing pending. The decisions are domain/joins.ts's; this loads and persists.
 */
import type { Logger } from "pino";

import { InputRenderError, renderInputs } from "../domain/inputs.js";
import {
  decideJoin,
  joinFailedError,
  joinGroupsOf,
  joinTargetOf,
  membershipsOf,
  uniteKey,
} from "../domain/joins.js";
import type { IdSource, NewState, Parents, State } from "../domain/model.js";
import { newState } from "../domain/new-state.js";
import type { JoinOutcome, RunStatus } from "../domain/statuses.js";
import { joinOutcomeOf } from "../domain/statuses.js";
import type { OpenJoin } from "../storage/store.js";
import { type LoadedGraph, nodeOf } from "./graph-cache.js";
import { loadRenderSources } from "./render-sources.js";
import type { JoinCheck, Settler, UnitOfWork } from "./unit-of-work.js";

type Member = Pick<State, "id" | "identifier" | "parents" | "run_id" | "join_heads">;

export class JoinEngine implements Settler {
  readonly #ids: IdSource;
  readonly #log: Logger;

  constructor(ids: IdSource, logger: Logger) {
    this.#ids = ids;
    this.#log = logger;
  }

  /** Adds new states to their join groups with `outcome` (pending for new work). */
  async addMembers(
    uow: UnitOfWork,
    graph: LoadedGraph,
    states: readonly (Member & Pick<NewState, "status">)[],
    outcome?: JoinOutcome,
  ): Promise<void> {
    const members = states.flatMap((s) =>
      membershipsOf(graph.compiled.nodes.get(s.identifier), s, outcome ?? joinOutcomeOf(s.status)),
    );
    await uow.tx.insertJoinMembers(members);
  }

  /**
   * Records a state's new outcome in its join groups and, unless it was superseded by a retry,
   * queues their checks.
   */
  async settleMember(
    uow: UnitOfWork,
    graph: LoadedGraph,
    state: Member,
    outcome: JoinOutcome,
  ): Promise<void> {
    const node = graph.compiled.nodes.get(state.identifier);
    for (const m of membershipsOf(node, state, outcome)) {
      await uow.tx.setJoinOutcome(m.group_key, m.state_id, outcome);
    }
    if (outcome !== "superseded") this.follow(uow, graph, state);
  }

  /** Queues the checks of every join group the state belongs to. */
  follow(uow: UnitOfWork, graph: LoadedGraph, state: Member): void {
    for (const g of joinGroupsOf(graph.compiled.nodes.get(state.identifier), state)) {
      uow.checkJoin({ runId: state.run_id, graph, unite: g.unite, targetId: g.targetId });
    }
  }

  /**
   * Opens and queues the joins whose target is one of these (just succeeded) states: once per
   * fan-out, keyed by the state that reported it. An open join keeps its run from ending until
   * its unite state exists, which on PostgreSQL is created only after this transaction commits.
   */
  async followTargets(
    uow: UnitOfWork,
    graph: LoadedGraph,
    targets: readonly Member[],
  ): Promise<void> {
    const opened = new Map<string, OpenJoin>();
    for (const target of targets) {
      for (const unite of nodeOf(graph, target.identifier).unitedBy) {
        const targetId = joinTargetOf(target);
        uow.checkJoin({ runId: target.run_id, graph, unite, targetId });
        const group_key = uniteKey(unite, targetId);
        opened.set(group_key, { group_key, run_id: target.run_id });
      }
    }
    if (opened.size > 0) await uow.tx.openJoins([...opened.values()]);
  }

  /**
   * The runs of a unit without join checks whose end it can already see: a run with no pending
   * state and no open join in this transaction's view has none (a state becomes final only in
   * the transaction that also creates whatever follows it, or opens the join that will, so
   * another transaction's uncommitted work still shows here as pending). A run that still shows
   * one is checked after commit, as are all runs of a unit with a join to check, where an
   * uncommitted join could create the next state.
   * Without `finishSettledRuns` (one statement) it leaves everything to after commit.
   */
  async settleVisible(uow: UnitOfWork): Promise<void> {
    if (uow.joins.size > 0 || uow.runs.size === 0 || !uow.tx.finishSettledRuns) return;
    for (const run of await uow.tx.finishSettledRuns([...uow.runs], uow.now)) {
      this.#finished(uow, run.run_id, run.namespace, run.graph_name, run.status);
      uow.runSettled(run.run_id);
    }
  }

  /** Runs the queued join checks (which may queue more), then finishes settled runs. */
  async settle(uow: UnitOfWork): Promise<void> {
    const done = new Set<string>();
    for (;;) {
      const next = [...uow.joins].find(([key]) => !done.has(key));
      if (!next) break;
      done.add(next[0]);
      await this.#checkJoin(uow, next[1]);
    }
    if (uow.tx.finishSettledRuns) {
      for (const run of await uow.tx.finishSettledRuns([...uow.runs], uow.now)) {
        this.#finished(uow, run.run_id, run.namespace, run.graph_name, run.status);
      }
      return;
    }
    for (const runId of uow.runs) {
      if ((await uow.tx.hasPendingStates(runId)) || (await uow.tx.hasOpenJoins(runId))) continue;
      const status: RunStatus = (await uow.tx.hasErroredStates(runId)) ? "FAILED" : "SUCCESS";
      if (await uow.tx.finishRun(runId, status, uow.now)) {
        // One read per finished run, for the graph label of the runs-finished metric.
        const run = await uow.tx.getRun(runId);
        if (run) this.#finished(uow, runId, run.namespace, run.graph_name, status);
        else this.#log.info({ runId, status }, "run finished");
      }
    }
  }

  #finished(
    uow: UnitOfWork,
    runId: string,
    namespace: string,
    graph: string,
    status: RunStatus,
  ): void {
    this.#log.info({ runId, status }, "run finished");
    uow.observe({ kind: "run-finished", namespace, graph, status });
  }

  /**
   * The join of unite node `unite` over target state `targetId`: fires once every member is
   * final (ALL_DONE) or succeeded (ALL_SUCCESS), and fails at once for ALL_SUCCESS when a member
   * failed for good.
   */
  async #checkJoin(uow: UnitOfWork, check: JoinCheck): Promise<void> {
    const { graph, unite, targetId, runId } = check;
    const { tx, now } = uow;
    const key = uniteKey(unite, targetId);
    if (await tx.getStateByUniteKey(key)) {
      // Fired already: a retried fan-out output that succeeded again reopened it.
      await tx.closeJoin(key, targetId);
      return;
    }
    const node = nodeOf(graph, unite);
    const target = await tx.getState(targetId);
    if (!target || target.status !== "SUCCESS") {
      // A retried target: this join never fires (the copy's success opens its own).
      await tx.closeJoin(key, targetId);
      return;
    }
    // A cancelled run creates nothing more (a report racing the cancel may still ask).
    if ((await tx.getRun(runId))?.status === "CANCELLED") return;
    const base = {
      namespace: node.template.namespace,
      node_name: node.template.node_name,
      identifier: unite,
      graph_name: target.graph_name,
      graph_version: target.graph_version,
      run_id: runId,
      parents: [...target.parents, [target.identifier, target.id]] as Parents,
      direct_parent: target.id,
      enqueue_after: now,
      join_heads: target.join_heads,
    };
    const strategy = node.template.unites?.strategy ?? "ALL_SUCCESS";
    const decision = decideJoin(strategy, {
      failed: strategy === "ALL_SUCCESS" ? await tx.findJoinMember(key, "failed") : undefined,
      hasPending: (await tx.findJoinMember(key, "pending")) !== undefined,
    });
    if (decision.kind === "wait") return;
    if (decision.kind === "fail") {
      const branch = await tx.getState(decision.failedStateId);
      await this.#insertUnite(uow, graph, {
        ...newState(now, this.#ids, { ...base, inputs: {} }),
        unite_key: key,
        status: "ERRORED",
        error: joinFailedError(decision.failedStateId, branch),
        data: { join_failed: true, failed_state_id: decision.failedStateId },
      });
      return;
    }

    let inputs: Record<string, string>;
    try {
      const sources = await loadRenderSources(tx, graph, [unite], target.parents, runId);
      const joined = new Map<string, Record<string, unknown>[]>();
      for (const template of node.inputs.values()) {
        for (const { ref } of template.parts) {
          if (
            ref.kind === "output" &&
            node.between.has(ref.identifier) &&
            !joined.has(ref.identifier)
          ) {
            joined.set(ref.identifier, await tx.listJoinOutputs(key, ref.identifier));
          }
        }
      }
      inputs = renderInputs(node, {
        current: target,
        ancestorOutputs: sources.ancestorOutputs,
        joined: (id, field) => (joined.get(id) ?? []).map((o) => o[field]),
        store: sources.store,
      });
    } catch (err) {
      if (!(err instanceof InputRenderError)) throw err;
      await this.#insertUnite(uow, graph, {
        ...newState(now, this.#ids, { ...base, inputs: {} }),
        unite_key: key,
        status: "ERRORED",
        error: `could not create the unite state: ${err.message}`,
      });
      return;
    }
    await this.#insertUnite(uow, graph, {
      ...newState(now, this.#ids, { ...base, inputs }),
      unite_key: key,
    });
  }

  async #insertUnite(uow: UnitOfWork, graph: LoadedGraph, state: NewState): Promise<void> {
    const full: NewState = { ...state, does_unites: true };
    if (!(await uow.tx.insertStateIfAbsent(full))) return; // another transaction fired this join
    if (full.unite_key && full.direct_parent) {
      await uow.tx.closeJoin(full.unite_key, full.direct_parent);
    }
    const outcome = joinOutcomeOf(full.status);
    await this.addMembers(uow, graph, [full], outcome);
    if (outcome === "failed") this.follow(uow, graph, full);
    uow.checkRun(full.run_id);
    uow.wake(full);
  }
}
