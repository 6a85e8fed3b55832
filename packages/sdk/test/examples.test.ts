import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { useStateManager } from "./helpers.js";

// The examples are what a new user copies first: run them (built by test/global-setup.ts, as
// their `npm start` would) against a real state manager.

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

const { server } = useStateManager();

async function runExample(name: string): Promise<string> {
  const { stdout } = await run(process.execPath, [`examples/${name}/dist/main.js`], {
    cwd: repoRoot,
    timeout: 60_000,
    env: {
      ...process.env,
      EXOSPHERE_STATE_MANAGER_URI: server().url,
      EXOSPHERE_API_KEY: server().apiKey,
      EXOSPHERE_LOG_LEVEL: "warn",
    },
  });
  return stdout;
}

describe("examples", () => {
  it("quickstart runs the getting started and prints the result", async () => {
    const stdout = await runExample("quickstart");
    expect(stdout).toContain("Processing data for: Ada");
    expect(stdout).toMatch(/Run [0-9a-f-]+ finished: SUCCESS/);
    expect(stdout).toContain('"processed_data":"completed:hello world"');
  });

  it("fanout-unite splits, processes in parallel and merges every result", async () => {
    const stdout = await runExample("fanout-unite");
    expect(stdout).toMatch(
      /finished: SUCCESS; states per node: \{"start":1,"split":9,"work":9,"merge":1\}/,
    );
    expect(stdout).toContain(
      "Merged 9 results: THE(3) QUICK(5) BROWN(5) FOX(3) JUMPS(5) OVER(4) THE(3) LAZY(4) DOG(3)",
    );
  });

  it("retry-failed fails a run, then retries what failed and the run succeeds", async () => {
    const stdout = await runExample("retry-failed");
    expect(stdout).toMatch(
      /Run [0-9a-f-]+: FAILED\n {2}charge \(Charge\) failed: payment provider unavailable\n/,
    );
    expect(stdout).toMatch(/Retried 1 failed state\(s\)\nRun [0-9a-f-]+: SUCCESS/);
  });

  it("cancel-run cancels a run while its node works, and the node's signal is aborted", async () => {
    const stdout = await runExample("cancel-run");
    expect(stdout).toMatch(/Cancelled run [0-9a-f-]+ \(1 state\(s\) cancelled\)/);
    expect(stdout).toMatch(
      /Run [0-9a-f-]+: CANCELLED\n {2}Report stopped: The run of state [0-9a-f]+ was cancelled/,
    );
  });
});
