/** How `run watch` draws a {@link RunProgress}: a progress bar and a table of counts per node. */
import type { StateStatus } from "exospherehost";

import { renderTable } from "./output.js";
import type { NodeProgress, RunProgress } from "./run-progress.js";

const BAR_WIDTH = 30;

/** Columns of the per-node table, each a group of state statuses. */
const COLUMNS: readonly { readonly title: string; readonly statuses: readonly StateStatus[] }[] = [
  { title: "PENDING", statuses: ["CREATED", "QUEUED", "EXECUTED"] },
  { title: "SUCCESS", statuses: ["SUCCESS", "PRUNED"] },
  { title: "FAILED", statuses: ["ERRORED", "NEXT_CREATED_ERROR"] },
  { title: "RETRIED", statuses: ["RETRY_CREATED"] },
  { title: "CANCELLED", statuses: ["CANCELLED"] },
];

/** `Run <id> (graph g v1): RUNNING  [######-----]  6/10 states done`. */
export function renderSummary(progress: RunProgress): string {
  const { run } = progress;
  const done = run.total_count - run.pending_count;
  const filled = run.total_count === 0 ? 0 : Math.round((done / run.total_count) * BAR_WIDTH);
  const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
  return `Run ${run.run_id} (graph ${run.graph_name} v${run.graph_version}): ${run.status}  ${bar}  ${done}/${run.total_count} states done`;
}

/** The per-node table. */
export function renderNodes(nodes: readonly NodeProgress[]): string {
  if (nodes.length === 0) {
    return "No states yet.";
  }
  return renderTable(
    ["NODE", "NAME", ...COLUMNS.map((c) => c.title)],
    nodes.map((node) => [
      node.identifier,
      node.nodeName,
      ...COLUMNS.map((column) =>
        String(column.statuses.reduce((sum, status) => sum + (node.counts[status] ?? 0), 0)),
      ),
    ]),
  );
}

/** The whole frame: summary, blank line, table. */
export function renderFrame(progress: RunProgress): string {
  return `${renderSummary(progress)}\n\n${renderNodes(progress.nodes)}`;
}
