import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, resolve } from "node:path";

import type { Command } from "commander";
import { z } from "zod";

import { CliError, UsageError } from "../../cli-error.js";
import type { CommandContext } from "../../context.js";
import { ExitCode } from "../../exit-code.js";
import { parseOptions, port } from "../../parse.js";

const optionsSchema = z.object({
  db: z.string().min(1).optional(),
  port: port.optional(),
});

/** `exosphere server start`: the state manager in the foreground, as `npm start` runs it. */
export function registerServerStartCommand(
  parent: Command,
  context: CommandContext,
  setExitCode: (code: ExitCode) => void,
): void {
  parent
    .command("start")
    .description(
      "start a state manager in the foreground (Ctrl-C stops it); other settings come from its environment, see docs/config.md",
    )
    .option(
      "--db <path|url>",
      "a SQLite file path, or a sqlite://, postgres:// or mongodb:// URL (default: ./.exosphere/exosphere.db)",
    )
    .option("--port <n>", "port to listen on (default: 8000)")
    .action(async (raw: unknown) => {
      const options = parseOptions(optionsSchema, raw);
      const entry = stateManagerEntry();
      const env: Record<string, string | undefined> = { ...context.environment.processEnv };
      if (options.db !== undefined) {
        env.DATABASE_URL = databaseUrl(options.db, context.environment.cwd);
      }
      if (options.port !== undefined) {
        env.PORT = String(options.port);
      }
      setExitCode(await runInForeground(entry, env));
    });
}

/**
 * A path becomes a `sqlite://` URL of its absolute form; anything with a scheme is passed on
 * for the server to check.
 */
export function databaseUrl(db: string, cwd: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(db)) {
    return db;
  }
  return `sqlite://${isAbsolute(db) ? db : resolve(cwd, db)}`;
}

/** The built main of the installed `@exosphere/state-manager`, from its `bin`. */
function stateManagerEntry(): string {
  let manifestPath: string;
  try {
    manifestPath = createRequire(import.meta.url).resolve("@exosphere/state-manager/package.json");
  } catch (err) {
    throw new UsageError(
      "The state manager is not installed next to the CLI: install it with `npm install @exosphere/state-manager` (the same way as @exosphere/cli, globally or in the project).",
      { cause: err },
    );
  }
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    bin?: Record<string, string>;
  };
  const bin = manifest.bin?.["exosphere-state-manager"];
  if (bin === undefined) {
    throw new CliError(
      ExitCode.USAGE,
      `${manifestPath} declares no exosphere-state-manager bin; reinstall @exosphere/state-manager.`,
    );
  }
  return resolve(dirname(manifestPath), bin);
}

/**
 * Run the server with this terminal, pass Ctrl-C and SIGTERM on to it, and resolve once it
 * exited: OK when it stopped cleanly (or on the signal we passed on), FAILED otherwise.
 */
function runInForeground(
  entry: string,
  env: Record<string, string | undefined>,
): Promise<ExitCode> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(process.execPath, [entry], { env, stdio: "inherit" });
    let forwarded: NodeJS.Signals | undefined;
    const forward = (signal: NodeJS.Signals): void => {
      forwarded = signal;
      child.kill(signal);
    };
    const onSigint = (): void => forward("SIGINT");
    const onSigterm = (): void => forward("SIGTERM");
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    const cleanup = (): void => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
    };
    child.once("error", (err) => {
      cleanup();
      reject(err);
    });
    child.once("exit", (code, signal) => {
      cleanup();
      const stoppedByUs = forwarded !== undefined && (code === 0 || signal === forwarded);
      resolveExit(code === 0 || stoppedByUs ? ExitCode.OK : ExitCode.FAILED);
    });
  });
}
