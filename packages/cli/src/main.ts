/**
 * The `exosphere` program: global flags, one `<noun> <verb>` command per file, and the mapping
 * of every outcome to a documented exit code ({@link ExitCode}).
 */
import { createRequire } from "node:module";

import { Command, CommanderError } from "commander";

import { CliError } from "./cli-error.js";
import { registerGraphApplyCommand } from "./commands/graph/apply.js";
import { registerGraphDeleteCommand } from "./commands/graph/delete.js";
import { registerGraphGetCommand } from "./commands/graph/get.js";
import { registerGraphListCommand } from "./commands/graph/list.js";
import { registerNamespacesListCommand } from "./commands/namespaces/list.js";
import { registerNodesListCommand } from "./commands/nodes/list.js";
import { registerRunCancelCommand } from "./commands/run/cancel.js";
import { registerRunGetCommand } from "./commands/run/get.js";
import { registerRunListCommand } from "./commands/run/list.js";
import { registerRunRetryFailedCommand } from "./commands/run/retry-failed.js";
import { registerRunTriggerCommand } from "./commands/run/trigger.js";
import { registerRunWatchCommand } from "./commands/run/watch.js";
import { registerServerStartCommand } from "./commands/server/start.js";
import { registerStateRetryCommand } from "./commands/state/retry.js";
import type { CliEnvironment } from "./config.js";
import type { CommandContext } from "./context.js";
import { formatStateManagerError, isRefusal, isUnreachable } from "./errors.js";
import { ExitCode } from "./exit-code.js";
import { createOutput, type TextSink } from "./output.js";

/** What {@link main} runs with. */
export interface MainOptions {
  readonly environment: CliEnvironment;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
}

/**
 * Run one invocation (`argv` without `node` and the script) and resolve with its exit code.
 * Never rejects: an expected failure prints its message, an unexpected one its stack.
 */
export async function main(argv: readonly string[], options: MainOptions): Promise<ExitCode> {
  const output = createOutput(options.stdout, options.stderr);
  const context: CommandContext = { environment: options.environment, output };
  let exitCode: ExitCode = ExitCode.OK;
  const program = createProgram(context, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (err) {
    return reportError(err, output);
  }
}

/**
 * The command tree. `setExitCode` lets a command that succeeded as a command still end with a
 * non-zero code (`run watch` of a failed run).
 */
export function createProgram(
  context: CommandContext,
  setExitCode: (code: ExitCode) => void,
): Command {
  const program = new Command("exosphere")
    .description("Drive an Exosphere state manager: graphs, runs, nodes.")
    .version(readVersion(), "-V, --version", "print the CLI's version")
    .option("--url <url>", "state manager URL (env EXOSPHERE_STATE_MANAGER_URI)")
    .option("--key <key>", "API key, the server's STATE_MANAGER_SECRET (env EXOSPHERE_API_KEY)")
    .option("-n, --namespace <namespace>", "namespace to work in (env EXOSPHERE_NAMESPACE)")
    .option(
      "--profile <name>",
      "a profile of the profile file (env EXOSPHERE_CONFIG names the file)",
    )
    .option("--json", "print JSON instead of tables (for scripts)")
    .showHelpAfterError("(add --help for usage)")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: true })
    .configureOutput({
      writeOut: (text) => context.output.write(text),
      writeErr: (text) => context.output.error(text.replace(/\n$/, "")),
    })
    .exitOverride();
  program.addHelpText(
    "after",
    "\nExit codes: 0 ok, 1 run FAILED/CANCELLED (run watch), 2 usage error, 3 refused by the server (4xx),\n4 server unreachable or failing (5xx). Docs: docs/cli.md",
  );

  const server = program.command("server").description("run a state manager on this machine");
  registerServerStartCommand(server, context, setExitCode);

  const graph = program.command("graph").description("create, read and delete graph templates");
  registerGraphApplyCommand(graph, context);
  registerGraphGetCommand(graph, context);
  registerGraphListCommand(graph, context);
  registerGraphDeleteCommand(graph, context);

  const run = program.command("run").description("trigger, inspect, watch, cancel and retry runs");
  registerRunTriggerCommand(run, context);
  registerRunListCommand(run, context);
  registerRunGetCommand(run, context);
  registerRunWatchCommand(run, context, setExitCode);
  registerRunCancelCommand(run, context);
  registerRunRetryFailedCommand(run, context);

  const state = program.command("state").description("act on one state of a run");
  registerStateRetryCommand(state, context);

  const nodes = program.command("nodes").description("nodes registered by runtimes");
  registerNodesListCommand(nodes, context);

  const namespaces = program.command("namespaces").description("namespaces of the server");
  registerNamespacesListCommand(namespaces, context);

  return program;
}

function reportError(err: unknown, output: CommandContext["output"]): ExitCode {
  if (err instanceof CommanderError) {
    // Commander printed its own message (or the help) already.
    return err.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
  }
  if (err instanceof CliError) {
    output.error(`error: ${err.message}`);
    return err.exitCode;
  }
  if (isRefusal(err)) {
    output.error(`error: ${formatStateManagerError(err)}`);
    return ExitCode.REFUSED;
  }
  if (isUnreachable(err)) {
    output.error(`error: ${formatStateManagerError(err)}`);
    return ExitCode.UNREACHABLE;
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (code === "INVALID_OPTION" || code === "MISSING_CONFIG") {
    output.error(`error: ${(err as Error).message}`);
    return ExitCode.USAGE;
  }
  output.error(
    `internal error (a bug in the exosphere CLI; please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  return ExitCode.INTERNAL;
}

function readVersion(): string {
  const manifest = createRequire(import.meta.url)("../package.json") as { version?: unknown };
  return typeof manifest.version === "string" ? manifest.version : "0.0.0";
}
