/** How SDK errors read on a terminal, and which exit code they stand for. */

/** The parts of a `StateManagerError` the CLI reads (tested by code, not class: see the SDK). */
interface ServerErrorLike {
  readonly status: number;
  readonly code: string;
  readonly detail: unknown;
  readonly message: string;
}

/** Next steps for codes whose fix the server's message does not say in CLI terms. */
const HINTS: Readonly<Record<string, string>> = {
  GRAPH_HAS_ACTIVE_RUNS: "pass --cancel-runs to cancel them and delete the graph",
  UNAUTHORIZED:
    "pass --key, set EXOSPHERE_API_KEY or a profile's key: it must equal the server's STATE_MANAGER_SECRET",
  GRAPH_NOT_FOUND: "list the graphs with: exosphere graph list",
  RUN_NOT_FOUND: "list the runs with: exosphere run list",
  STATE_NOT_RETRYABLE: "list the run's states with: exosphere run get <run-id> --states",
  CONNECTION_FAILED:
    "start one with: exosphere server start; or point --url / EXOSPHERE_STATE_MANAGER_URI at yours",
};

/** The server answered 4xx: it refused the request. */
export function isRefusal(err: unknown): err is ServerErrorLike {
  const status = statusOf(err);
  return status !== undefined && status >= 400 && status < 500;
}

/** The server could not be reached, timed out, or failed (5xx). */
export function isUnreachable(err: unknown): boolean {
  const status = statusOf(err);
  if (status !== undefined) {
    return status >= 500;
  }
  const code = (err as { code?: unknown } | null)?.code;
  return code === "CONNECTION_FAILED" || code === "REQUEST_TIMEOUT";
}

/** `<what the server said> (<status> <code>)`, plus a hint on the next line when there is one. */
export function formatStateManagerError(err: unknown): string {
  const code = String((err as { code?: unknown }).code ?? "");
  const status = statusOf(err);
  let text: string;
  if (status === undefined) {
    text = (err as Error).message;
  } else {
    const server = err as ServerErrorLike;
    text = `${formatDetail(server.detail)} (${status} ${code})`;
  }
  const hint = HINTS[code] ?? (status === 401 ? HINTS.UNAUTHORIZED : undefined);
  return hint === undefined ? text : `${text}\nhint: ${hint}`;
}

/** A server `detail` (a string, or a list of field errors) on one line. */
export function formatDetail(detail: unknown): string {
  if (typeof detail === "string") {
    return detail;
  }
  if (Array.isArray(detail)) {
    return detail
      .map((item: unknown) => {
        const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
        const where = Array.isArray(loc) ? loc.map(String).join(".") : "";
        const what = typeof msg === "string" ? msg : JSON.stringify(item);
        return where === "" ? what : `${where}: ${what}`;
      })
      .join("; ");
  }
  return detail === undefined || detail === null ? "(no detail)" : JSON.stringify(detail);
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}
