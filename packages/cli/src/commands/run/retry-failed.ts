import type { Command } from "commander";

import { clientOf, type CommandContext, isJson } from "../../context.js";

/** `exosphere run retry-failed <id>`. */
export function registerRunRetryFailedCommand(parent: Command, context: CommandContext): void {
  parent
    .command("retry-failed")
    .description("give every failed state of a run a fresh attempt; the run goes on")
    .argument("<run-id>", "the run's id")
    .action(async (runId: string, _raw: unknown, command: Command) => {
      const answer = await clientOf(context, command).retryFailed(runId);
      if (isJson(command)) {
        context.output.json(answer);
        return;
      }
      context.output.line(
        answer.retried > 0
          ? `Retried ${answer.retried} failed state${answer.retried === 1 ? "" : "s"} of run ${runId}; the run is ${answer.status}.`
          : `Nothing to retry: no state of run ${runId} failed.`,
      );
    });
}
