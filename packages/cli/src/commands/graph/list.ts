import type { Command } from "commander";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { formatTime, renderTable } from "../../output.js";

/** `exosphere graph list`: the namespace's graph templates. */
export function registerGraphListCommand(parent: Command, context: CommandContext): void {
  parent
    .command("list")
    .description("list the namespace's graph templates")
    .action(async (_raw: unknown, command: Command) => {
      const { templates } = await clientOf(context, command).listGraphs();
      if (isJson(command)) {
        context.output.json(templates);
        return;
      }
      if (templates.length === 0) {
        context.output.line("No graphs.");
        return;
      }
      context.output.line(
        renderTable(
          ["NAME", "VERSION", "VALIDATION", "NODES", "UPDATED"],
          templates.map((t) => [
            t.name,
            typeof t.version === "number" ? String(t.version) : "-",
            t.validation_status,
            String(t.nodes.length),
            formatTime(t.updated_at),
          ]),
        ),
      );
    });
}
