import type { Command } from "commander";
import type { Run } from "exospherehost";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { formatTime, renderFields, renderTable } from "../../output.js";

/** `exosphere run get <id>`: one run with its counts by state status. */
export function registerRunGetCommand(parent: Command, context: CommandContext): void {
  parent
    .command("get")
    .description("show a run: status, graph version, times and its states counted by status")
    .argument("<run-id>", "the run's id")
    .action(async (runId: string, _raw: unknown, command: Command) => {
      const run = await clientOf(context, command).getRun(runId);
      if (isJson(command)) {
        context.output.json(run);
        return;
      }
      context.output.line(renderRun(run));
    });
}

export function renderRun(run: Run): string {
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
      [
        "States",
        `${run.total_count} (${run.success_count} succeeded, ${run.pending_count} pending, ${run.errored_count} failed, ${run.retried_count} retried, ${run.cancelled_count} cancelled)`,
      ],
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
