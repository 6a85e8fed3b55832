import { ConfigurationError, ErrorCode } from "./errors.js";

// Signals are recognised by a registry-wide symbol, not `instanceof`, so that a node compiled
// against another copy of this package still signals correctly.
const SIGNAL_KIND = Symbol.for("exospherehost.signal");

/**
 * Throw from `execute()` to end this branch of the run: the state becomes `PRUNED`, nothing
 * downstream is created and no retry happens. `data` is stored with the state.
 *
 * @example
 * ```ts
 * class Filter extends BaseNode {
 *   static Inputs = z.object({ score: z.string() });
 *   static Outputs = z.object({ score: z.string() });
 *   async execute() {
 *     if (Number(this.inputs.score) < 0.5) throw new PruneSignal({ reason: "score too low" });
 *     return { score: this.inputs.score };
 *   }
 * }
 * ```
 * @public
 */
export class PruneSignal extends Error {
  /** Stored in the state's `data`. */
  readonly data: Record<string, unknown>;

  /**
   * @param data - any JSON object to keep with the pruned state. @defaultValue \{\}
   */
  constructor(data: Record<string, unknown> = {}) {
    super("Pruned by node");
    this.name = "PruneSignal";
    this.data = data;
    brand(this, "prune");
  }
}

/**
 * Throw from `execute()` to run this same state again after `delayMs` milliseconds. It does not
 * consume a retry of the graph's retry policy; use it to poll an external system.
 *
 * @example
 * ```ts
 * class WaitForReport extends BaseNode {
 *   static Inputs = z.object({ report_id: z.string() });
 *   static Outputs = z.object({ url: z.string() });
 *   async execute() {
 *     const report = await fetchReport(this.inputs.report_id);
 *     if (!report.ready) throw new ReQueueAfterSignal(30_000);
 *     return { url: report.url };
 *   }
 * }
 * ```
 * @public
 */
export class ReQueueAfterSignal extends Error {
  /** Delay before the state is runnable again, in ms (an integer ≥ 1). */
  readonly delayMs: number;

  /**
   * @param delayMs - milliseconds, > 0; fractions are rounded up.
   * @throws {@link ConfigurationError} when `delayMs` is not a positive finite number.
   */
  constructor(delayMs: number) {
    if (typeof delayMs !== "number" || !Number.isFinite(delayMs) || delayMs <= 0) {
      throw new ConfigurationError(
        ErrorCode.INVALID_OPTION,
        `ReQueueAfterSignal needs a delay in milliseconds greater than 0, got ${String(delayMs)}.`,
      );
    }
    super(`Re-queued by node for ${Math.ceil(delayMs)} ms`);
    this.name = "ReQueueAfterSignal";
    this.delayMs = Math.ceil(delayMs);
    brand(this, "requeue");
  }
}

/** What a value thrown by a node asks the runtime to do. */
export type ThrownSignal =
  | { kind: "prune"; data: Record<string, unknown> }
  | { kind: "requeue"; delayMs: number }
  | { kind: "none" };

/** Classify a value thrown by `execute()`. Works across package copies. */
export function readSignal(thrown: unknown): ThrownSignal {
  if (typeof thrown !== "object" || thrown === null) {
    return { kind: "none" };
  }
  const kind = (thrown as { [SIGNAL_KIND]?: unknown })[SIGNAL_KIND];
  if (kind === "prune") {
    const data = (thrown as { data?: unknown }).data;
    return { kind: "prune", data: isPlainObject(data) ? data : {} };
  }
  if (kind === "requeue") {
    const delayMs = (thrown as { delayMs?: unknown }).delayMs;
    if (typeof delayMs === "number" && Number.isFinite(delayMs) && delayMs >= 1) {
      return { kind: "requeue", delayMs: Math.ceil(delayMs) };
    }
  }
  return { kind: "none" };
}

function brand(signal: Error, kind: "prune" | "requeue"): void {
  Object.defineProperty(signal, SIGNAL_KIND, { value: kind, enumerable: false });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
