#!/usr/bin/env node
/**
 * Runs the workloads for ONE column of the table (one system in one profile) in a process of its
 * own, so that no column inherits another's timers, sockets, heap or CPU accounting. Started by
 * bench.mjs with the JSON configuration in the environment variable BENCH_COLUMN; prints a
 * detail line per trial and, last, `BENCH_RESULT <json>` (or `BENCH_ERROR <json>`, exit code 1).
 *
 * A driver (systems/*.mjs) has: `label`, `settings` (one line for the header), `versions`,
 * `setup()`, `cpuGroups()` (CPU seconds of the server processes, see lib/proc.mjs), one method
 * per workload (`throughput`, `latency`, `chain`, `fanout`) taking `{ trial, sizes, deadline,
 * width, workload }` and returning its figures plus `checked` (jobs verified to have run exactly
 * once) and `cut` when the trial hit its cap, and `teardown()`.
 */
import { createDriver } from "./lib/columns.mjs";
import { cpuMeter, waitForQuietMachine } from "./lib/proc.mjs";
import { compactJson, now } from "./lib/util.mjs";

// bench.mjs holds the write end of our stdin: when it dies, we stop too.
process.stdin.on("end", () => process.exit(1));
process.stdin.on("error", () => process.exit(1));
process.stdin.resume();
process.stdin.unref?.();

const config = JSON.parse(process.env.BENCH_COLUMN ?? "{}");
const say = (line) => process.stdout.write(`${line}\n`);

async function main() {
  const driver = await createDriver(config);
  say(`${driver.label}: starting`);
  // Filled as the trials finish: a failure later still reports them.
  const results = {};
  try {
    await driver.setup();
    for (const workload of config.plan) {
      results[workload] = [];
      const isLarge = workload === "fanout-large";
      if (isLarge && results.fanout?.some((r) => r.cut)) {
        // It would be cut too, after a longer cap: not worth the minutes.
        const skipped = `not run: the ${config.sizes.fanout.toLocaleString("en-US")}-wide fan-out was cut`;
        results[workload].push({ skipped, checked: 0 });
        say(`  ${driver.label} ${workload}: ${skipped}`);
        continue;
      }
      const capSeconds = isLarge ? config.largeCapSeconds : config.capSeconds;
      for (let trial = 1; trial <= config.trials; trial++) {
        const waitedForQuietS = config.waitQuiet
          ? await waitForQuietMachine(driver.cpuGroups())
          : 0;
        const meter = cpuMeter(driver.cpuGroups());
        const method = workload.startsWith("fanout") ? "fanout" : workload;
        const result = await driver[method]({
          trial,
          workload,
          sizes: config.sizes,
          width: isLarge ? config.sizes.fanoutLarge : config.sizes.fanout,
          deadline: now() + capSeconds * 1000,
        });
        const r = { ...result, ...meter(), waitedForQuietS };
        results[workload].push(r);
        say(`  ${driver.label} ${workload} trial ${trial}: ${compactJson(r)}`);
      }
    }
    say(
      `BENCH_RESULT ${JSON.stringify({ label: driver.label, settings: driver.settings, versions: driver.versions ?? {}, results })}`,
    );
  } catch (err) {
    say(
      `BENCH_ERROR ${JSON.stringify({
        label: driver.label,
        settings: driver.settings,
        results,
        message: err?.message ?? String(err),
        stack: err?.stack ?? "",
        serverOutput: driver.serverOutput?.() ?? "",
      })}`,
    );
    process.exitCode = 1;
  } finally {
    // The results are out: a library that fails while being torn down (e.g. a pool whose
    // connection the database drop terminates, with no 'error' listener) is reported, not fatal.
    process.on("uncaughtException", (err) => say(`  teardown: ${err?.message ?? err}`));
    await driver.teardown().catch((err) => say(`  teardown failed: ${err?.message ?? err}`));
  }
}

main()
  .catch((err) => {
    say(
      `BENCH_ERROR ${JSON.stringify({ label: config.column, message: String(err?.stack ?? err) })}`,
    );
    process.exitCode = 1;
  })
  .finally(() => {
    // Libraries may keep timers or sockets open after their close(); the results are out.
    setTimeout(() => process.exit(), 200).unref();
  });
