/**
 * Many executed/errored reports in one request: each applied as its own transition, exactly as
 * E9/E10 would, answered per report in the same order. A report E9/E10 would refuse gets its
 * error in place; the others still apply.
 *
 * Strategy: the reports of distinct states are applied together in one unit of work (one
 * transaction, one read of their rows where the store can, one settling step, one event-id
 * bump), in chunks of {@link REPORTS_PER_UNIT}.
 * If any of them is refused, that unit rolls back whole and its reports are applied again one
 * unit each (the way every report was applied before), so that a refusal never undoes or
 * changes another report. Refusals are rare (a duplicate report, a cancelled run, a lost
 * lease), so the retry costs little. Rejected: a savepoint per report, which costs a round trip
 * per report on PostgreSQL and makes every written report a subtransaction (more than 64 in one
 * transaction overflow each backend's subtransaction cache and slow down every snapshot).
 * Measured through the SDK on PostgreSQL: docs/benchmarks.md.
 */
import { DomainError, StorageUnavailableError } from "../../domain/errors.js";
import type { EngineContext } from "../context.js";
import { checkStateId } from "../state-access.js";
import { applyErrored, errored, type FailedAttempt, logFailedAttempt } from "./errored.js";
import { applyExecuted, checkExecuted, executed } from "./executed.js";

export type Report =
  | {
      readonly state_id: string;
      readonly executed: { readonly outputs: readonly Record<string, unknown>[] };
    }
  | {
      readonly state_id: string;
      readonly errored: { readonly error: string; readonly stack?: string | undefined };
    };

export type ReportResult =
  | { readonly state_id: string; readonly status: "EXECUTED" }
  | { readonly state_id: string; readonly status: "ERRORED"; readonly retry_created: boolean }
  | { readonly state_id: string; readonly error: DomainError };

/**
 * Most reports in one unit of work: bounds how long one transaction holds its rows and what a
 * refusal makes apply again.
 */
export const REPORTS_PER_UNIT = 64;

export async function reportMany(
  ctx: EngineContext,
  namespace: string,
  reports: readonly Report[],
): Promise<ReportResult[]> {
  const results: (ReportResult | undefined)[] = reports.map((report) => precheck(ctx, report));
  // Reports of one state stay on the one-by-one path, where they apply in the order given.
  const seen = new Map<string, number>();
  for (const r of reports) seen.set(r.state_id, (seen.get(r.state_id) ?? 0) + 1);
  const together: number[] = [];
  const alone: number[] = [];
  for (const [i, r] of reports.entries()) {
    if (results[i] !== undefined) continue;
    (seen.get(r.state_id) === 1 ? together : alone).push(i);
  }
  // Rows locked in one order by every unit, so that two units never wait on each other.
  together.sort((a, b) => compare(reports[a]!.state_id, reports[b]!.state_id));
  const units: Promise<void>[] = [];
  for (let i = 0; i < together.length; i += REPORTS_PER_UNIT) {
    const chunk = together.slice(i, i + REPORTS_PER_UNIT);
    units.push(
      (chunk.length === 1
        ? oneByOne(ctx, namespace, reports, chunk)
        : applyTogether(ctx, namespace, reports, chunk)
      ).then((applied) => {
        for (const [j, index] of chunk.entries()) results[index] = applied[j];
      }),
    );
  }
  units.push(
    oneByOne(ctx, namespace, reports, alone).then((applied) => {
      for (const [j, index] of alone.entries()) results[index] = applied[j];
    }),
  );
  await Promise.all(units);
  return results as ReportResult[];
}

/** A refusal inside a unit of reports: rolls the unit back (caught below, never escapes). */
class RefusedInUnitError extends Error {}

/** Applies the reports at `indexes` in one unit of work; one by one if any is refused. */
async function applyTogether(
  ctx: EngineContext,
  namespace: string,
  reports: readonly Report[],
  indexes: readonly number[],
): Promise<ReportResult[]> {
  let applied: { result: ReportResult; failed?: FailedAttempt; error?: string }[];
  try {
    applied = await ctx.write(async (uow) => {
      const out: { result: ReportResult; failed?: FailedAttempt; error?: string }[] = [];
      // The unit's states read and locked in one statement (in id order, as `indexes` are).
      await uow.tx.lockStates?.(indexes.map((index) => reports[index]!.state_id));
      try {
        for (const index of indexes) {
          const report = reports[index]!;
          if ("executed" in report) {
            await applyExecuted(ctx, uow, namespace, report.state_id, report.executed.outputs);
            out.push({ result: { state_id: report.state_id, status: "EXECUTED" } });
          } else {
            const { error, stack } = report.errored;
            const failed = await applyErrored(ctx, uow, namespace, report.state_id, error, stack);
            out.push({
              result: {
                state_id: report.state_id,
                status: "ERRORED",
                retry_created: failed.retryCreated,
              },
              failed,
              error,
            });
          }
        }
        // Transitions the store kept back are written here, where a refusal still rolls back.
        await uow.tx.flushWrites?.();
      } catch (err) {
        if (err instanceof DomainError && !(err instanceof StorageUnavailableError)) {
          throw new RefusedInUnitError();
        }
        throw err;
      }
      return out;
    });
  } catch (err) {
    if (!(err instanceof RefusedInUnitError)) throw err;
    return oneByOne(ctx, namespace, reports, indexes);
  }
  for (const a of applied) {
    if (a.failed && a.error !== undefined) logFailedAttempt(ctx, namespace, a.failed, a.error);
  }
  return applied.map((a) => a.result);
}

/**
 * Applies the reports at `indexes` one unit of work each: reports of different states
 * concurrently, two reports of one state in the order given (the first wins, as it would had
 * they come one after the other).
 */
function oneByOne(
  ctx: EngineContext,
  namespace: string,
  reports: readonly Report[],
  indexes: readonly number[],
): Promise<ReportResult[]> {
  const previous = new Map<string, Promise<unknown>>();
  return Promise.all(
    indexes.map((index): Promise<ReportResult> => {
      const report = reports[index]!;
      const before = previous.get(report.state_id) ?? Promise.resolve();
      const result = before.then(() => apply(ctx, namespace, report));
      previous.set(
        report.state_id,
        result.catch(() => undefined),
      );
      return result;
    }),
  );
}

/** The checks that need no database; a refusal, or undefined when the report may apply. */
function precheck(ctx: EngineContext, report: Report): ReportResult | undefined {
  try {
    if ("executed" in report) checkExecuted(ctx, report.state_id, report.executed.outputs);
    else checkStateId(report.state_id);
    return undefined;
  } catch (err) {
    if (!(err instanceof DomainError)) throw err;
    return { state_id: report.state_id, error: err };
  }
}

async function apply(ctx: EngineContext, namespace: string, report: Report): Promise<ReportResult> {
  try {
    if ("executed" in report) {
      await executed(ctx, namespace, report.state_id, report.executed.outputs);
      return { state_id: report.state_id, status: "EXECUTED" };
    }
    const { retryCreated } = await errored(
      ctx,
      namespace,
      report.state_id,
      report.errored.error,
      report.errored.stack,
    );
    return { state_id: report.state_id, status: "ERRORED", retry_created: retryCreated };
  } catch (err) {
    // An unreachable database fails the whole request (503): the client retries the batch.
    if (!(err instanceof DomainError) || err instanceof StorageUnavailableError) throw err;
    return { state_id: report.state_id, error: err };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
