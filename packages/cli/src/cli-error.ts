import { ExitCode } from "./exit-code.js";

/**
 * An expected failure: `main` prints its message (what happened, why, how to fix it) without a
 * stack and exits with `exitCode`.
 */
export class CliError extends Error {
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A bad command line, configuration or input file (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ExitCode.USAGE, message, options);
    this.name = "UsageError";
  }
}
