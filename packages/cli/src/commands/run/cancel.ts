import type { Command } from "commander";

import { clientOf, type CommandContext, isJson } from "../../context.js";

/** `exosphere run cancel <id>`. */
export function registerRunCancelCommand(parent: Command, context: CommandContext): void {
  parent
    .command("cancel")
    .description(
      "cancel a run: its unfinished states become CANCELLED and nodes working on them are aborted",
    )
    .argument("<run-id>", "the run's id")
    .action(async (runId: string, _raw: unknown, command: Command) => {
      const answer = await clientOf(context, command).cancelRun(runId);
      if (isJson(command)) {
        context.output.json(answer);
        return;
      }
      context.output.line(
        answer.cancelled_states > 0
          ? `Cancelled run ${runId}: ${answer.cancelled_states} state${answer.cancelled_states === 1 ? "" : "s"} cancelled.`
          : `Run ${runId} was already cancelled.`,
      );
    });
}
