import type { Command } from "commander";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { formatTime, renderTable } from "../../output.js";

/** `exosphere nodes list`: the nodes runtimes registered in the namespace. */
export function registerNodesListCommand(parent: Command, context: CommandContext): void {
  parent
    .command("list")
    .description("list the nodes registered in the namespace")
    .action(async (_raw: unknown, command: Command) => {
      const { nodes } = await clientOf(context, command).listNodes();
      if (isJson(command)) {
        context.output.json(nodes);
        return;
      }
      if (nodes.length === 0) {
        context.output.line("No nodes registered.");
        return;
      }
      context.output.line(
        renderTable(
          ["NAME", "RUNTIME", "INPUTS", "OUTPUTS", "SECRETS", "UPDATED"],
          nodes.map((node) => [
            node.name,
            node.runtime_name,
            propertiesOf(node.inputs_schema),
            propertiesOf(node.outputs_schema),
            node.secrets.join(", ") || "-",
            formatTime(node.updated_at),
          ]),
        ),
      );
    });
}

/** The property names of a JSON schema object, or `-`. */
function propertiesOf(schema: unknown): string {
  const properties = (schema as { properties?: unknown } | null)?.properties;
  const names =
    typeof properties === "object" && properties !== null ? Object.keys(properties) : [];
  return names.join(", ") || "-";
}
