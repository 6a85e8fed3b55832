/** What every command action gets: the environment, the output, and clients built from flags. */
import type { Command } from "commander";
import { silentLogger, StateManager } from "exospherehost";

import { UsageError } from "./cli-error.js";
import { type CliEnvironment, type Connection, resolveConnection } from "./config.js";
import type { Output } from "./output.js";

/** Shared by every command of one invocation. */
export interface CommandContext {
  readonly environment: CliEnvironment;
  readonly output: Output;
}

/** The global flags, as commander hands them over. */
export interface GlobalFlags {
  url?: string;
  key?: string;
  namespace?: string;
  profile?: string;
  json?: boolean;
}

/** The global flags of the command being run (given before or after its name). */
export function globalFlags(command: Command): GlobalFlags {
  return command.optsWithGlobals<GlobalFlags>();
}

/** The connection of the command being run. */
export function connectionOf(context: CommandContext, command: Command): Connection {
  return resolveConnection(globalFlags(command), context.environment);
}

/** A client of the namespace the flags, environment or profile name; refuses without one. */
export function clientOf(context: CommandContext, command: Command): StateManager {
  const connection = connectionOf(context, command);
  if (connection.namespace === undefined) {
    throw new UsageError(
      `No namespace: pass --namespace <ns>, set EXOSPHERE_NAMESPACE, or set "namespace" in a profile of ${context.environment.configPath}.`,
    );
  }
  return clientFor(connection, connection.namespace);
}

/** A client of `namespace` over `connection`. */
export function clientFor(connection: Connection, namespace: string): StateManager {
  return new StateManager({
    namespace,
    stateManagerUri: connection.url,
    key: connection.key,
    logger: silentLogger,
  });
}

/** Whether `--json` was given. */
export function isJson(command: Command): boolean {
  return globalFlags(command).json === true;
}
