import type { Command } from "commander";

import { clientFor, type CommandContext, connectionOf, isJson } from "../../context.js";

/** `exosphere namespaces list`: every namespace with registered nodes; needs no namespace. */
export function registerNamespacesListCommand(parent: Command, context: CommandContext): void {
  parent
    .command("list")
    .description("list the namespaces that have registered nodes")
    .action(async (_raw: unknown, command: Command) => {
      const connection = connectionOf(context, command);
      // The listing is not per namespace; the client only needs some name to be built.
      const sm = clientFor(connection, connection.namespace ?? "default");
      const { namespaces } = await sm.listNamespaces();
      if (isJson(command)) {
        context.output.json(namespaces);
        return;
      }
      context.output.line(namespaces.length > 0 ? namespaces.join("\n") : "No namespaces.");
    });
}
