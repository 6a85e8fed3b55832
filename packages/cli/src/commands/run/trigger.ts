import type { Command } from "commander";
import { z } from "zod";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { collect, keyValues, nonNegativeInt, parseOptions } from "../../parse.js";

const optionsSchema = z.object({
  input: keyValues.default({}),
  store: keyValues.default({}),
  startDelay: nonNegativeInt.optional(),
});

/** `exosphere run trigger <graph> --input k=v --store k=v`. */
export function registerRunTriggerCommand(parent: Command, context: CommandContext): void {
  parent
    .command("trigger")
    .description("start a run of a graph")
    .argument("<graph>", "the graph's name")
    .option("-i, --input <key=value>", "override a root input (repeatable)", collect)
    .option("-s, --store <key=value>", "an initial value of the run's store (repeatable)", collect)
    .option("--start-delay <ms>", "wait this long before the first state runs")
    .action(async (graphName: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw);
      const answer = await clientOf(context, command).trigger(graphName, {
        inputs: options.input,
        store: options.store,
        ...(options.startDelay !== undefined && { startDelay: options.startDelay }),
      });
      if (isJson(command)) {
        context.output.json(answer);
        return;
      }
      context.output.line(`Triggered run ${answer.run_id} of graph "${graphName}".`);
      context.output.line(`Follow it with: exosphere run watch ${answer.run_id}`);
    });
}
