import type { Command } from "commander";
import { z } from "zod";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { parseOptions } from "../../parse.js";

const optionsSchema = z.object({ cancelRuns: z.boolean().optional() });

/** `exosphere graph delete <name> [--cancel-runs]`. */
export function registerGraphDeleteCommand(parent: Command, context: CommandContext): void {
  parent
    .command("delete")
    .description(
      "delete a graph template (every version and its cron triggers); finished runs stay readable",
    )
    .argument("<name>", "the graph's name")
    .option("--cancel-runs", "cancel the graph's active runs first (otherwise they make it fail)")
    .action(async (name: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw);
      const answer = await clientOf(context, command).deleteGraph(name, {
        cancelRuns: options.cancelRuns === true,
      });
      if (isJson(command)) {
        context.output.json(answer);
        return;
      }
      const cancelled =
        answer.cancelled_runs > 0
          ? ` (${answer.cancelled_runs} active run${answer.cancelled_runs === 1 ? "" : "s"} cancelled)`
          : "";
      context.output.line(`Deleted graph "${name}"${cancelled}.`);
    });
}
