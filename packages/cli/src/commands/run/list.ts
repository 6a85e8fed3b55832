import type { Command } from "commander";
import type { Run } from "exospherehost";
import { z } from "zod";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { formatTime, renderTable } from "../../output.js";
import { parseOptions, positiveInt, runStatus } from "../../parse.js";

const optionsSchema = z.object({
  graph: z.string().min(1).optional(),
  status: runStatus.optional(),
  createdAfter: z.string().min(1).optional(),
  limit: positiveInt.default(20),
});

/** Runs fetched per request: the server's default page size, within any MAX_PAGE_SIZE. */
const PAGE_SIZE = 50;

/** `exosphere run list [--graph] [--status] [--limit]`. */
export function registerRunListCommand(parent: Command, context: CommandContext): void {
  parent
    .command("list")
    .description("list runs, newest first")
    .option("-g, --graph <name>", "only runs of this graph")
    .option(
      "--status <status>",
      "only runs in this status: PENDING, RUNNING, SUCCESS, FAILED, CANCELLED",
    )
    .option("--created-after <time>", "only runs created after this ISO time or epoch ms")
    .option("-l, --limit <n>", "show at most this many runs (default: 20)")
    .action(async (raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw);
      const sm = clientOf(context, command);
      const runs: Run[] = [];
      for await (const run of sm.iterateRuns({
        ...(options.graph !== undefined && { graphName: options.graph }),
        ...(options.status !== undefined && { status: options.status }),
        ...(options.createdAfter !== undefined && { createdAfter: options.createdAfter }),
        pageSize: Math.min(options.limit, PAGE_SIZE),
      })) {
        runs.push(run);
        if (runs.length >= options.limit) {
          break;
        }
      }
      if (isJson(command)) {
        context.output.json(runs);
        return;
      }
      if (runs.length === 0) {
        context.output.line("No runs.");
        return;
      }
      context.output.line(
        renderTable(
          ["RUN ID", "GRAPH", "STATUS", "STATES", "FAILED", "CREATED", "FINISHED"],
          runs.map((run) => [
            run.run_id,
            `${run.graph_name} v${run.graph_version}`,
            run.status,
            `${run.success_count}/${run.total_count}`,
            String(run.errored_count),
            formatTime(run.created_at),
            formatTime(run.finished_at),
          ]),
        ),
      );
    });
}
