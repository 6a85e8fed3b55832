import type { Command } from "commander";
import type { GraphTemplate, RetryPolicy } from "exospherehost";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { formatTime, renderFields, renderTable } from "../../output.js";

/** `exosphere graph get <name>`: one graph template. */
export function registerGraphGetCommand(parent: Command, context: CommandContext): void {
  parent
    .command("get")
    .description("show a graph template: version, validation, nodes, secrets' names, policies")
    .argument("<name>", "the graph's name")
    .action(async (name: string, _raw: unknown, command: Command) => {
      const graph = await clientOf(context, command).getGraph(name);
      if (isJson(command)) {
        context.output.json(graph);
        return;
      }
      context.output.line(renderGraph(name, graph));
    });
}

function renderGraph(name: string, graph: GraphTemplate): string {
  const secrets = Object.keys(graph.secrets);
  const store = graph.store_config;
  const defaults = Object.entries(store.default_values ?? {}).map(([k, v]) => `${k}=${v}`);
  const fields: [string, string][] = [
    ["Graph", name],
    ["Version", typeof graph.version === "number" ? String(graph.version) : "-"],
    ["Validation", graph.validation_status],
    ["Updated", formatTime(graph.updated_at)],
    ["Secrets", secrets.length > 0 ? secrets.join(", ") : "-"],
    ["Retry policy", describeRetryPolicy(graph.retry_policy)],
    [
      "Store",
      `required: ${(store.required_keys ?? []).join(", ") || "-"}; defaults: ${defaults.join(", ") || "-"}`,
    ],
    [
      "Triggers",
      graph.triggers.length > 0
        ? graph.triggers.map((t) => `${t.type} ${t.value.expression}`).join(", ")
        : "-",
    ],
  ];
  const nodes = renderTable(
    ["IDENTIFIER", "NODE", "NAMESPACE", "NEXT", "UNITES"],
    graph.nodes.map((node) => [
      node.identifier,
      node.node_name,
      node.namespace,
      (node.next_nodes ?? []).join(", ") || "-",
      node.unites ? `${node.unites.identifier} (${node.unites.strategy ?? "ALL_SUCCESS"})` : "-",
    ]),
  );
  const errors = graph.validation_errors.map((message) => `  - ${message}`);
  return [
    renderFields(fields),
    "",
    nodes,
    ...(errors.length > 0 ? ["", "Validation errors:", ...errors] : []),
  ].join("\n");
}

function describeRetryPolicy(policy: RetryPolicy): string {
  const parts = [
    policy.strategy ?? "EXPONENTIAL",
    `max ${policy.max_retries ?? 3} retries`,
    `backoff ${policy.backoff_factor ?? 2000} ms`,
  ];
  if (policy.exponent !== undefined) {
    parts.push(`exponent ${policy.exponent}`);
  }
  if (policy.max_delay !== undefined && policy.max_delay !== null) {
    parts.push(`max delay ${policy.max_delay} ms`);
  }
  return parts.join(", ");
}
