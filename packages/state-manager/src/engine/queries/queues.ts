/** The queues as metrics see them: runnable states per namespace and node. */
import type { QueueStats } from "../../storage/store.js";
import type { EngineContext } from "../context.js";

/** Most (namespace, node) groups reported: keeps a scrape bounded whatever the workload. */
export const MAX_QUEUE_GROUPS = 1000;

export interface QueueSnapshot {
  /** When it was read (the engine clock). */
  readonly at: number;
  readonly queues: readonly QueueStats[];
}

export function getQueueSnapshot(ctx: EngineContext): Promise<QueueSnapshot> {
  return ctx.transaction(async (tx) => {
    const at = ctx.clock.now();
    return { at, queues: await tx.countRunnableStates(at, MAX_QUEUE_GROUPS) };
  });
}
