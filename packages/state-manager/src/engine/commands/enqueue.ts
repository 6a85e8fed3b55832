/**
 * E8: claims runnable states. With `waitMs` > 0 it long-polls: waits until one is runnable, the
 * wait ends, or the client goes away. States claimed for a client that left are given back at
 * once rather than left to their lease.
 */
import type { State } from "../../domain/model.js";
import { requeue } from "../attempts.js";
import type { EngineContext } from "../context.js";

export interface EnqueueRequest {
  readonly nodes: readonly string[];
  readonly batchSize: number;
  readonly waitMs: number;
  readonly leaseMs?: number;
  readonly claimedBy?: string | null;
}

/** Never spin: a state due "now" that a claim missed is looked for again after this pause. */
const MIN_RECHECK_MS = 5;

export async function enqueue(
  ctx: EngineContext,
  namespace: string,
  request: EnqueueRequest,
  signal?: AbortSignal,
): Promise<State[]> {
  const { clock, dispatcher } = ctx;
  const deadline = clock.now() + request.waitMs;
  const leaseMs = request.leaseMs ?? ctx.limits.leaseMs;
  for (;;) {
    const waiter = request.waitMs > 0 ? dispatcher.subscribe(namespace, request.nodes) : undefined;
    try {
      const now = clock.now();
      const claimed = await ctx.claim({
        namespace,
        nodeNames: request.nodes,
        limit: request.batchSize,
        now,
        leaseExpiresAt: now + leaseMs,
        claimedBy: request.claimedBy ?? null,
      });
      if (claimed.length > 0) {
        // A plain transaction, not a unit of work: observed here, once it has committed.
        ctx.observer.observe({
          kind: "states-claimed",
          states: claimed.map((s) => ({
            namespace: s.namespace,
            node: s.node_name,
            waitedMs: Math.max(0, (s.claimed_at ?? clock.now()) - s.enqueue_after),
          })),
        });
        if (signal?.aborted) {
          await giveBack(ctx, claimed);
          return [];
        }
        return claimed;
      }
      if (!waiter || clock.now() >= deadline || signal?.aborted || dispatcher.closed) return [];
      // Read after the empty claim, not in its transaction: a state that became runnable in
      // between only makes the loop look again sooner.
      const next = await ctx.transaction((tx) => tx.nextRunnableAt(namespace, request.nodes));
      if (next !== undefined && next <= clock.now()) {
        // A state is due but this claim missed it (another claimer holds its row): look again
        // after a short real pause. Real, not on the clock: it is a scheduling pause, and a
        // test clock that only moves when told to must not hold it forever.
        await new Promise((resolve) => setTimeout(resolve, MIN_RECHECK_MS));
      } else {
        await waiter.wait(Math.min(deadline, next ?? deadline), signal);
      }
      if (signal?.aborted || dispatcher.closed) return [];
    } finally {
      if (waiter) dispatcher.unsubscribe(waiter);
    }
  }
}

/** Returns claims whose client left to the queue, runnable now. */
async function giveBack(ctx: EngineContext, states: readonly State[]): Promise<void> {
  await ctx.write(async (uow) => {
    for (const s of states) await requeue(uow, s, uow.now);
  });
}
