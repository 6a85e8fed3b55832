/**
 * Many executed/errored reports in one request: each applied as its own transition, exactly as
 * E9/E10 would, answered per report in the same order. A report E9/E10 would refuse gets its
 * error in place; the others still apply.
 */
import { DomainError, StorageUnavailableError } from "../../domain/errors.js";
import type { EngineContext } from "../context.js";
import { errored } from "./errored.js";
import { executed } from "./executed.js";

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

export function reportMany(
  ctx: EngineContext,
  namespace: string,
  reports: readonly Report[],
): Promise<ReportResult[]> {
  // Reports of different states run concurrently; two reports of one state apply in the order
  // given (the first wins, as it would had they come one after the other).
  const previous = new Map<string, Promise<unknown>>();
  return Promise.all(
    reports.map((report): Promise<ReportResult> => {
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
