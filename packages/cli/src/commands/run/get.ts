import type { Command } from "commander";
import type { Run, RunState } from "exospherehost";
import { z } from "zod";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { formatTime, renderFields, renderTable } from "../../output.js";
import { parseOptions, stateStatus } from "../../parse.js";

const optionsSchema = z.object({
  states: z.boolean().optional(),
  node: z.string().min(1).optional(),
  status: stateStatus.optional(),
});

/** Longest error shown in the states table; `--json` has the whole text. */
const ERROR_WIDTH = 60;

/** `exosphere run get <id> [--states]`: one run with its counts by state status. */
export function registerRunGetCommand(parent: Command, context: CommandContext): void {
  parent
    .command("get")
    .description(
      "show a run: status, graph version, times and its states counted by status; --states lists them",
    )
    .argument("<run-id>", "the run's id")
    .option("--states", "also list the run's states (ids for `state retry`)")
    .option("--node <identifier>", "with --states: only the states of this node")
    .option("--status <status>", "with --states: only the states in this status (e.g. ERRORED)")
    .action(async (runId: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw);
      const sm = clientOf(context, command);
      const run = await sm.getRun(runId);
      let states: RunState[] | undefined;
      if (options.states === true) {
        states = [];
        for await (const state of sm.iterateRunStates(runId, {
          ...(options.node !== undefined && { identifier: options.node }),
          ...(options.status !== undefined && { status: options.status }),
        })) {
          states.push(state);
        }
      }
      if (isJson(command)) {
        context.output.json(states === undefined ? run : { ...run, states });
        return;
      }
      context.output.line(renderRun(run));
      if (states !== undefined) {
        context.output.line();
        context.output.line(states.length > 0 ? renderStates(states) : "No matching states.");
      }
    });
}

function renderRun(run: Run): string {
  const counts = Object.entries(run.counts).filter(([, n]) => n > 0);
  return [
    renderFields([
      ["Run", run.run_id],
      ["Graph", `${run.graph_name} (version ${run.graph_version})`],
      ["Status", run.status],
      ["Origin", run.origin],
      ["Created", formatTime(run.created_at)],
      ["Started", formatTime(run.started_at)],
      ["Finished", formatTime(run.finished_at)],
    ]),
    "",
    counts.length > 0
      ? renderTable(
          ["STATUS", "STATES"],
          counts.map(([status, n]) => [status, String(n)]),
        )
      : "No states.",
  ].join("\n");
}

function renderStates(states: readonly RunState[]): string {
  return renderTable(
    ["STATE ID", "NODE", "NAME", "STATUS", "ATTEMPT", "UPDATED", "ERROR"],
    states.map((state) => [
      state.state_id,
      state.identifier,
      state.node_name,
      state.status,
      String(state.attempt),
      formatTime(state.updated_at),
      truncate(state.error ?? "-"),
    ]),
  );
}

function truncate(text: string): string {
  const line = text.replace(/\s+/g, " ");
  return line.length > ERROR_WIDTH ? `${line.slice(0, ERROR_WIDTH - 1)}…` : line;
}
