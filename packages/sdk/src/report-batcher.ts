import type { Clock } from "./clock.js";
import { StateManagerError } from "./errors.js";
import { type HttpClient, isTransientError, statusOf } from "./http-client.js";
import type { Logger } from "./logger.js";
import { retry } from "./retry.js";

/** Most reports the state manager accepts in one `POST .../states/report`. */
export const MAX_REPORTS_PER_BATCH = 1_000;

/**
 * Most bytes of report bodies put into one request. Far below the state manager's default body
 * limit (8 MiB); a single larger report still goes alone, and a batch the server refuses as too
 * large is re-sent report by report (see {@link ReportBatcher}).
 */
const MAX_BATCH_BYTES = 1024 * 1024;

/** One `executed` or `errored` report, as the runtime hands it to {@link ReportBatcher.submit}. */
export type BatchedReport =
  | {
      readonly stateId: string;
      readonly kind: "executed";
      readonly outputs: Record<string, unknown>[];
    }
  | {
      readonly stateId: string;
      readonly kind: "errored";
      readonly error: string;
      /** The thrown error's stack trace (a v0 server ignores it). */
      readonly stack?: string;
    };

/**
 * What became of one submitted report.
 *
 * - `reported`: the state manager applied it (`EXECUTED` or `ERRORED`).
 * - `refused`: the state manager refused it for good (a 4xx for this report, exactly what E9/E10
 *   would have answered); `error` is built as if E9/E10 had answered it.
 * - `stopped`: the runtime's hard stop came first; the report was given up.
 * - `expired`: the state manager could not be reached before the state's lease would expire; the
 *   report was dropped (and logged, one line per request).
 * - `fallback`: the batch endpoint is missing or refused the whole request; the caller must send
 *   this report on its own endpoint (E9/E10).
 */
export type ReportResult =
  | { readonly kind: "reported" }
  | { readonly kind: "refused"; readonly error: StateManagerError }
  | { readonly kind: "stopped" }
  | { readonly kind: "expired" }
  | { readonly kind: "fallback" };

/** Settings of {@link ReportBatcher}. */
export interface ReportBatcherOptions {
  readonly http: HttpClient;
  readonly logger: Logger;
  /** Most reports per request, 1 to {@link MAX_REPORTS_PER_BATCH}. */
  readonly maxBatch: number;
  /**
   * How long the first queued report waits for others before its request is sent, ms. 0 sends
   * everything queued within the same event-loop turn together.
   */
  readonly windowMs: number;
  /** Aborted at hard stop: queued and retried reports are given up (`stopped`). */
  readonly signal: AbortSignal;
  readonly clock: Clock;
  /** Log one failed attempt of a streak (the runtime's loud-then-quiet policy). */
  readonly logFailure: (attempt: number, message: string, meta: Record<string, unknown>) => void;
  /** Told which reports failed and are about to be retried. */
  readonly onRetry: (stateIds: readonly string[]) => void;
}

/** A batch item on the wire. */
type WireReport =
  | { state_id: string; executed: { outputs: Record<string, unknown>[] } }
  | { state_id: string; errored: { error: string; stack?: string } };

/** One item of the `results` answer. */
interface WireResult {
  state_id?: unknown;
  status?: unknown;
  error?: { status_code?: unknown; detail?: unknown; code?: unknown } | null;
}

interface Entry {
  readonly report: BatchedReport;
  /** Epoch ms after which the report is dropped rather than retried (the state's lease). */
  readonly deadline: number | undefined;
  readonly wire: WireReport;
  readonly bytes: number;
  readonly resolve: (result: ReportResult) => void;
}

/**
 * Coalesces the runtime's `executed` and `errored` reports into
 * `POST /v0/namespace/{ns}/states/report` requests.
 *
 * A report submitted while none is queued opens a window of `windowMs`; every report submitted
 * before the window closes goes into the same request, which is sent when the window closes, or
 * at once when it holds `maxBatch` reports (or about 1 MiB). Several requests may be in flight at
 * once; each is retried on its own, so a failing request never delays the reports of another.
 *
 * Per request:
 * - a transport failure, timeout, 408, 429 or 5xx is retried with backoff (200 ms doubling to
 *   10 s, as single reports are) until it lands, the hard stop, or the lease of each report's
 *   state would expire (that report is then dropped); only that request's reports are re-sent;
 * - 200: each report is settled by its own result. A result with a 4xx `error` is final
 *   (`refused`); one with a 5xx (or 408/429) `error` is retried with the others of its kind;
 * - 404 or 405: the server has no batch endpoint (the original Python state manager, an older
 *   one). That is remembered for the life of the batcher, and every report of the request, and
 *   every later one, is answered `fallback`;
 * - any other 4xx (a body too large, a wrong key): the request's reports are answered `fallback`
 *   so that each gets exactly the single-report handling; the endpoint is still used afterwards.
 *
 * `submit()` never rejects.
 */
export class ReportBatcher {
  readonly #http: HttpClient;
  readonly #logger: Logger;
  readonly #maxBatch: number;
  readonly #windowMs: number;
  readonly #signal: AbortSignal;
  readonly #logFailure: ReportBatcherOptions["logFailure"];
  readonly #onRetry: ReportBatcherOptions["onRetry"];
  readonly #clock: Clock;
  readonly #path: string;

  #queued: Entry[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  /** `false` once a 404/405 showed that the server has no batch endpoint. */
  #endpointAvailable = true;

  constructor(options: ReportBatcherOptions) {
    this.#http = options.http;
    this.#logger = options.logger;
    this.#maxBatch = Math.max(1, Math.min(MAX_REPORTS_PER_BATCH, Math.floor(options.maxBatch)));
    this.#windowMs = Math.max(0, options.windowMs);
    this.#signal = options.signal;
    this.#logFailure = options.logFailure;
    this.#onRetry = options.onRetry;
    this.#clock = options.clock;
    this.#path = this.#http.namespacePath("/states/report");
    if (this.#signal.aborted) {
      return;
    }
    this.#signal.addEventListener("abort", () => this.#giveUpQueued(), { once: true });
  }

  /** False once the server answered that it has no batch endpoint. */
  get endpointAvailable(): boolean {
    return this.#endpointAvailable;
  }

  /**
   * Queue one report; resolves when it has landed, been refused, given up or must fall back.
   *
   * @param deadline - epoch ms after which the report is dropped instead of retried.
   */
  submit(report: BatchedReport, deadline?: number): Promise<ReportResult> {
    if (this.#signal.aborted) {
      return Promise.resolve({ kind: "stopped" });
    }
    if (!this.#endpointAvailable) {
      return Promise.resolve({ kind: "fallback" });
    }
    const wire: WireReport =
      report.kind === "executed"
        ? { state_id: report.stateId, executed: { outputs: report.outputs } }
        : { state_id: report.stateId, errored: erroredBody(report) };
    const bytes = Buffer.byteLength(JSON.stringify(wire));
    return new Promise<ReportResult>((resolve) => {
      if (this.#queued.length > 0 && this.#queuedBytes + bytes > MAX_BATCH_BYTES) {
        this.flush();
      }
      this.#queued.push({ report, deadline, wire, bytes, resolve });
      this.#queuedBytes += bytes;
      if (this.#queued.length >= this.#maxBatch || this.#queuedBytes >= MAX_BATCH_BYTES) {
        this.flush();
      } else {
        this.#scheduleFlush();
      }
    });
  }

  /** Send what is queued now instead of at the end of the window. */
  flush(): void {
    this.#cancelScheduledFlush();
    const entries = this.#queued;
    this.#queued = [];
    this.#queuedBytes = 0;
    if (entries.length > 0) {
      void this.#sendBatch(entries);
    }
  }

  #scheduleFlush(): void {
    if (this.#timer !== undefined || this.#immediate !== undefined) {
      return;
    }
    if (this.#windowMs === 0) {
      this.#immediate = setImmediate(() => this.flush());
    } else {
      this.#timer = setTimeout(() => this.flush(), this.#windowMs);
    }
  }

  #cancelScheduledFlush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#immediate !== undefined) {
      clearImmediate(this.#immediate);
      this.#immediate = undefined;
    }
  }

  #giveUpQueued(): void {
    this.#cancelScheduledFlush();
    const entries = this.#queued;
    this.#queued = [];
    this.#queuedBytes = 0;
    settle(entries, { kind: "stopped" });
  }

  /** Send one batch until every report in it is settled. Never rejects. */
  async #sendBatch(entries: Entry[]): Promise<void> {
    let remaining = entries;
    try {
      const result = await retry(
        async (attempt) => {
          // Every report gets one try, whatever its lease says; retries stop at the lease.
          if (attempt > 1) {
            remaining = this.#dropExpired(remaining);
          }
          if (remaining.length === 0 || !this.#endpointAvailable) {
            return;
          }
          const answer = await this.#http.request<{ results?: unknown }>(
            "POST",
            this.#path,
            { reports: remaining.map((entry) => entry.wire) },
            { signal: this.#signal },
          );
          remaining = this.#settleResults(remaining, answer);
          if (remaining.length > 0) {
            throw new TransientReportsError(remaining.length);
          }
        },
        {
          clock: this.#clock,
          backoff: { baseMs: 200, maxMs: 10_000 },
          signal: this.#signal,
          isRetryable: (err) => err instanceof TransientReportsError || isTransientError(err),
          deadline: () => latestDeadline(remaining),
          onRetry: ({ attempt, delayMs, error }) => {
            this.#onRetry(remaining.map((entry) => entry.report.stateId));
            this.#logFailure(attempt, "reporting a batch of states failed; retrying", {
              reports: remaining.length,
              stateIds: remaining.map((entry) => entry.report.stateId),
              retryInMs: delayMs,
              error: error instanceof Error ? error.message : String(error),
            });
          },
        },
      );
      if (result.ok) {
        // Another request found out meanwhile that there is no batch endpoint.
        settle(remaining, { kind: "fallback" });
        return;
      }
      switch (result.reason) {
        case "aborted":
          settle(remaining, { kind: "stopped" });
          return;
        case "refused":
          this.#refusedWhole(remaining, result.error);
          return;
        case "deadline":
        case "attempts":
          this.#drop(remaining, result.error);
          return;
      }
    } catch (err) {
      // Not expected (request() and the settling above do not throw otherwise); never lose a
      // report over it: let each one take the single-report path.
      this.#logger.error("unexpected failure while reporting a batch; reporting one by one", {
        reports: remaining.length,
        error: err instanceof Error ? err.message : String(err),
      });
      settle(remaining, { kind: "fallback" });
    }
  }

  /** Drop the reports whose state's lease has run out; returns the others. */
  #dropExpired(entries: Entry[]): Entry[] {
    const now = this.#clock.now();
    const expired = entries.filter(
      (entry) => entry.deadline !== undefined && now >= entry.deadline,
    );
    if (expired.length === 0) {
      return entries;
    }
    this.#drop(expired, undefined);
    return entries.filter((entry) => !expired.includes(entry));
  }

  #drop(entries: readonly Entry[], error: unknown): void {
    if (entries.length === 0) {
      return;
    }
    this.#logger.error(
      `dropped ${entries.length} report(s): the state manager could not be reached before the states' leases expired; it will run them again`,
      {
        stateIds: entries.map((entry) => entry.report.stateId),
        error:
          error instanceof Error ? error.message : error === undefined ? undefined : String(error),
      },
    );
    settle(entries, { kind: "expired" });
  }

  /** The whole request was refused with a 4xx: fall back for its reports, and remember a 404/405. */
  #refusedWhole(entries: Entry[], err: unknown): void {
    const status = statusOf(err);
    if (status === 404 || status === 405) {
      if (this.#endpointAvailable) {
        this.#endpointAvailable = false;
        this.#logger.info(
          "the state manager has no batched report endpoint; reporting each state on its own",
          { status },
        );
      }
    } else {
      this.#logger.warn("state manager refused a batch of reports; sending them one by one", {
        reports: entries.length,
        status,
        error: err instanceof Error ? err.message : String(err),
      });
    }
    settle(entries, { kind: "fallback" });
  }

  /**
   * Settle each report by its result; returns those to retry (a transient per-report error). A
   * missing or mismatched result is a refusal: the request did land, so re-sending is no use.
   */
  #settleResults(entries: Entry[], answer: { results?: unknown }): Entry[] {
    const results = Array.isArray(answer?.results) ? (answer.results as unknown[]) : [];
    const retry: Entry[] = [];
    for (const [index, entry] of entries.entries()) {
      const result = results[index] as WireResult | null | undefined;
      const singlePath = this.#http.namespacePath(
        `/state/${encodeURIComponent(entry.report.stateId)}/${entry.report.kind}`,
      );
      if (
        typeof result !== "object" ||
        result === null ||
        result.state_id !== entry.report.stateId
      ) {
        entry.resolve({
          kind: "refused",
          error: new StateManagerError({
            status: 200,
            code: "INVALID_RESPONSE",
            detail: `the batched report answer has no result for state ${entry.report.stateId} at position ${index}`,
            method: "POST",
            path: this.#path,
          }),
        });
        continue;
      }
      if (typeof result.error === "object" && result.error !== null) {
        const status =
          typeof result.error.status_code === "number" ? result.error.status_code : 400;
        const error = new StateManagerError({
          status,
          code:
            typeof result.error.code === "string" && result.error.code !== ""
              ? result.error.code
              : `HTTP_${status}`,
          detail: result.error.detail,
          method: "POST",
          path: singlePath,
        });
        if (isTransientError(error)) {
          retry.push(entry);
        } else {
          entry.resolve({ kind: "refused", error });
        }
        continue;
      }
      entry.resolve({ kind: "reported" });
    }
    return retry;
  }
}

/** Some reports of a batch were answered with a transient error; they are sent again. */
class TransientReportsError extends Error {
  constructor(count: number) {
    super(`${count} report(s) answered with a transient error`);
    this.name = "TransientReportsError";
  }
}

/** The latest deadline of the entries, or undefined when one of them has none. */
function latestDeadline(entries: readonly Entry[]): number | undefined {
  let latest = Number.NEGATIVE_INFINITY;
  for (const entry of entries) {
    if (entry.deadline === undefined) {
      return undefined;
    }
    latest = Math.max(latest, entry.deadline);
  }
  return entries.length === 0 ? undefined : latest;
}

function settle(entries: readonly Entry[], result: ReportResult): void {
  for (const entry of entries) {
    entry.resolve(result);
  }
}

/** The body of an `errored` report: `{error}`, plus `stack` when there is one. */
export function erroredBody(report: { readonly error: string; readonly stack?: string }): {
  error: string;
  stack?: string;
} {
  return report.stack === undefined
    ? { error: report.error }
    : { error: report.error, stack: report.stack };
}
