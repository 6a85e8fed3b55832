import { readFileSync } from "node:fs";
import { resolve } from "node:path";

import type { Command } from "commander";
import type { GraphDefinition, GraphTemplate } from "exospherehost";
import { z } from "zod";

import { CliError, UsageError } from "../../cli-error.js";
import { describeIssues } from "../../config.js";
import { clientOf, type CommandContext, isJson } from "../../context.js";
import { ExitCode } from "../../exit-code.js";
import type { Output } from "../../output.js";
import { parseOptions } from "../../parse.js";

const optionsSchema = z.object({
  file: z.string().min(1),
  name: z.string().min(1).optional(),
});

/**
 * A graph file: the body of `PUT .../graph/{g}` (wire field names) plus an optional `name`.
 * The read-only fields of `graph get --json` are accepted and ignored, so its output can be
 * edited and applied again (with the secrets' values filled in).
 */
const graphFileSchema = z
  .object({
    name: z.string().min(1).optional(),
    nodes: z.array(z.unknown()),
    secrets: z
      .record(
        z.string(),
        z.string({
          error:
            "secret values must be strings (graph get never returns them: put the values in the file)",
        }),
      )
      .optional(),
    retry_policy: z.unknown().optional(),
    store_config: z.unknown().optional(),
    triggers: z.unknown().optional(),
    namespace: z.unknown().optional(),
    version: z.unknown().optional(),
    validation_status: z.unknown().optional(),
    validation_errors: z.unknown().optional(),
    created_at: z.unknown().optional(),
    updated_at: z.unknown().optional(),
  })
  .strict();

/** `exosphere graph apply -f graph.json`: create or update a graph template. */
export function registerGraphApplyCommand(parent: Command, context: CommandContext): void {
  parent
    .command("apply")
    .description(
      "create or update a graph template from a JSON file (the HTTP body: nodes, secrets, retry_policy, store_config, triggers)",
    )
    .requiredOption("-f, --file <path>", "the graph file, or - for standard input")
    .option("--name <name>", "the graph's name (default: the file's \"name\")")
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw);
      const file = readGraphFile(options.file, context.environment.cwd);
      const name = options.name ?? file.name;
      if (name === undefined) {
        throw new UsageError(
          `The graph has no name: pass --name <name> or add "name" to ${options.file}.`,
        );
      }
      const sm = clientOf(context, command);
      const definition = toDefinition(file);
      let graph: GraphTemplate;
      try {
        graph = await sm.upsertGraph(name, definition);
      } catch (err) {
        throw explainRejection(err, name, file, context.output, isJson(command));
      }
      if (isJson(command)) {
        context.output.json(graph);
        return;
      }
      const version = typeof graph.version === "number" ? `version ${graph.version}, ` : "";
      context.output.line(
        `Graph "${name}" applied: ${version}${graph.validation_status} (${graph.nodes.length} node${graph.nodes.length === 1 ? "" : "s"}).`,
      );
    });
}

type GraphFile = z.infer<typeof graphFileSchema>;

function readGraphFile(path: string, cwd: string): GraphFile {
  let text: string;
  try {
    text = readFileSync(path === "-" ? 0 : resolve(cwd, path), "utf8");
  } catch (err) {
    throw new UsageError(`Cannot read the graph file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`The graph file ${path} is not JSON: ${(err as Error).message}`);
  }
  const parsed = graphFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(
      `The graph file ${path} is not a graph: ${describeIssues(parsed.error)}. See docs/cli.md, "Graph files".`,
    );
  }
  return parsed.data;
}

/** The SDK's definition (camelCase options, wire-named contents); the SDK checks the rest. */
function toDefinition(file: GraphFile): GraphDefinition {
  const definition: Record<string, unknown> = { nodes: file.nodes, secrets: file.secrets ?? {} };
  if (file.retry_policy !== undefined) {
    definition.retryPolicy = file.retry_policy;
  }
  if (file.store_config !== undefined) {
    definition.storeConfig = file.store_config;
  }
  if (file.triggers !== undefined) {
    definition.triggers = file.triggers;
  }
  return definition as unknown as GraphDefinition;
}

/**
 * An INVALID graph or a structural error: print the problems grouped by the node each names,
 * and turn it into exit code 3. A definition the SDK's models refuse is a usage error.
 */
function explainRejection(
  err: unknown,
  name: string,
  file: GraphFile,
  output: Output,
  isJsonOutput: boolean,
): unknown {
  const { code } = (err ?? {}) as { code?: unknown };
  if (code === "INVALID_GRAPH_DEFINITION") {
    return new UsageError((err as Error).message);
  }
  let problems: readonly string[] | undefined;
  let status: string;
  if (code === "GRAPH_INVALID") {
    problems = (err as { validationErrors?: readonly string[] }).validationErrors ?? [];
    status = "INVALID";
  } else if (code === "GRAPH_STRUCTURE_INVALID") {
    const listed = (err as { context?: { errors?: unknown } }).context?.errors;
    problems = Array.isArray(listed)
      ? listed.map(String)
      : [String((err as { detail?: unknown }).detail)];
    status = "refused (structure)";
  } else {
    return err;
  }
  if (isJsonOutput) {
    output.json({ name, validation_status: "INVALID", validation_errors: problems });
  } else {
    output.line(
      `Graph "${name}" is ${status}: ${problems.length} problem${problems.length === 1 ? "" : "s"}.`,
    );
    for (const [where, messages] of groupByNode(problems, nodesOf(file))) {
      output.line(`  ${where}`);
      for (const message of messages) {
        output.line(`    - ${message}`);
      }
    }
  }
  return new CliError(
    ExitCode.REFUSED,
    `graph "${name}" was not accepted (${problems.length} problem${problems.length === 1 ? "" : "s"} above)`,
  );
}

interface NodeRef {
  readonly identifier: string;
  readonly nodeName: string;
}

function nodesOf(file: GraphFile): NodeRef[] {
  return file.nodes.flatMap((node) => {
    const { identifier, node_name } = (node ?? {}) as { identifier?: unknown; node_name?: unknown };
    return typeof identifier === "string" && typeof node_name === "string"
      ? [{ identifier, nodeName: node_name }]
      : [];
  });
}

/**
 * The server's messages name a node by its quoted identifier (`node "work" ...`) or by its
 * registered name (`Node Worker in namespace ...`): file each message under every node it
 * names, and the rest under "(graph)".
 */
export function groupByNode(
  problems: readonly string[],
  nodes: readonly NodeRef[],
): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const add = (where: string, message: string): void => {
    groups.set(where, [...(groups.get(where) ?? []), message]);
  };
  for (const message of problems) {
    const byIdentifier = nodes.filter((node) => message.includes(`"${node.identifier}"`));
    const named =
      byIdentifier.length > 0
        ? byIdentifier
        : nodes.filter((node) => new RegExp(`\\b${escapeRegExp(node.nodeName)}\\b`).test(message));
    if (named.length === 0) {
      add("(graph)", message);
    }
    for (const node of named) {
      add(`${node.identifier} (${node.nodeName})`, message);
    }
  }
  return groups;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
