import type { Command } from "commander";
import { z } from "zod";

import { clientOf, type CommandContext, isJson } from "../../context.js";
import { ExitCode } from "../../exit-code.js";
import { parseOptions, positiveInt } from "../../parse.js";
import { renderFrame, renderNodes, renderSummary } from "../../progress-view.js";
import {
  EventRunProgressSource,
  PollingRunProgressSource,
  type RunProgress,
  type RunProgressSource,
} from "../../run-progress.js";

const optionsSchema = z.object({
  interval: positiveInt.default(500),
  poll: z.boolean().default(false),
});

/**
 * `exosphere run watch <id>`: live progress until the run ends; exit code 1 when it ends
 * FAILED or CANCELLED.
 */
export function registerRunWatchCommand(
  parent: Command,
  context: CommandContext,
  setExitCode: (code: ExitCode) => void,
): void {
  parent
    .command("watch")
    .description(
      "follow a run until it ends: a progress bar and per-node counts (exit code 1 if it ends FAILED or CANCELLED)",
    )
    .argument("<run-id>", "the run's id")
    .option(
      "--interval <ms>",
      "with --poll: time between two looks at the run; else the most often the view is redrawn (default: 500)",
    )
    .option(
      "--poll",
      "poll the run instead of following its event stream (for the original state manager)",
    )
    .action(async (runId: string, raw: unknown, command: Command) => {
      const options = parseOptions(optionsSchema, raw);
      const client = clientOf(context, command);
      const source: RunProgressSource = options.poll
        ? new PollingRunProgressSource(client, options.interval)
        : new EventRunProgressSource(client, options.interval);
      const { output } = context;
      const json = isJson(command);
      let last: RunProgress | undefined;
      let lastText = "";
      let linesOnScreen = 0;
      for await (const progress of source.watch(runId)) {
        last = progress;
        const text = renderFrame(progress);
        if (text === lastText) {
          continue;
        }
        lastText = text;
        if (json) {
          // One line per change (NDJSON), for scripts that follow along.
          output.write(`${JSON.stringify(progress)}\n`);
        } else if (output.isTTY) {
          // Redraw in place: up to the frame's first line, clear to the end of the screen.
          output.write(`${linesOnScreen > 0 ? `\u001b[${linesOnScreen}A\u001b[0J` : ""}${text}\n`);
          linesOnScreen = text.split("\n").length;
        } else {
          // A log or pipe gets one line per change; the table once, at the end.
          output.line(renderSummary(progress));
        }
      }
      if (last === undefined) {
        return;
      }
      if (!json && !output.isTTY) {
        output.line();
        output.line(renderNodes(last.nodes));
      }
      setExitCode(last.run.status === "SUCCESS" ? ExitCode.OK : ExitCode.FAILED);
    });
}
