import type { Command } from "commander";
import { z } from "zod";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { parseOptions } from "../../parse.js";

const optionsSchema = z.object({ fanoutId: z.string().min(1).optional() });

/** `exosphere state retry <id>`: run a node again from one final state. */
export function registerStateRetryCommand(parent: Command, context: CommandContext): void {
  parent
    .command("retry")
    .description(
      "run a node again from one final state (SUCCESS, PRUNED, ERRORED, NEXT_CREATED_ERROR); its next states are created anew",
    )
    .argument("<state-id>", "the state's id (exosphere run get <run-id> --states lists them)")
    .option(
      "--fanout-id <id>",
      "idempotency key: the same key twice runs the node once (default: random)",
    )
    .action(async (stateId: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw);
      const answer = await clientOf(context, command).retryState(
        stateId,
        options.fanoutId === undefined ? {} : { fanoutId: options.fanoutId },
      );
      if (isJson(command)) {
        context.output.json(answer);
        return;
      }
      context.output.line(`State ${stateId} runs again as state ${answer.id}.`);
    });
}
