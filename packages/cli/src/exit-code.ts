/**
 * Exit codes of `exosphere`, documented in docs/cli.md. Scripts branch on them: 3 means "the
 * server said no" (retrying will not help), 4 means "could not talk to the server" (it may).
 */
export const ExitCode = {
  /** Done. */
  OK: 0,
  /** `run watch`: the run ended FAILED or CANCELLED. `server start`: the server exited with an error. */
  FAILED: 1,
  /** Bad command line, configuration or input file; nothing was sent. */
  USAGE: 2,
  /** The server refused the request (4xx) or found the graph INVALID; its message is printed. */
  REFUSED: 3,
  /** The server could not be reached, timed out, or failed (5xx). */
  UNREACHABLE: 4,
  /** A bug in the CLI; the stack is printed. */
  INTERNAL: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
