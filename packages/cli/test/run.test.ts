import { waitFor } from "@exosphere/test-utils";
import { BaseNode, type StateManager } from "exospherehost";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { uniqueNamespace, useCliServer } from "./helpers.js";

// run trigger / list / get / watch / cancel / retry-failed and state retry against the real
// state manager, with a runtime of the test process executing the nodes.

/** Failures still to come per order: `Charge` throws while its order has some left. */
const failuresLeft = new Map<string, number>();
const executions = new Map<string, number>();

class Charge extends BaseNode.define({
  inputs: z.object({ order: z.string(), currency: z.string() }),
  outputs: z.object({ receipt: z.string() }),
}) {
  async execute() {
    const { order, currency } = this.inputs;
    executions.set(order, (executions.get(order) ?? 0) + 1);
    const left = failuresLeft.get(order) ?? 0;
    if (left > 0) {
      failuresLeft.set(order, left - 1);
      throw new Error(`card declined for ${order}`);
    }
    if (order.startsWith("slow")) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20_000);
        this.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return { receipt: `${order}-${currency}` };
  }
}

class Notify extends BaseNode.define({
  inputs: z.object({ receipt: z.string() }),
  outputs: z.object({ sent: z.string() }),
}) {
  async execute() {
    return { sent: this.inputs.receipt };
  }
}

describe("run commands", () => {
  const { cli, client, startRuntime } = useCliServer();

  /** A namespace with a runtime and graph `checkout`: charge → notify, no automatic retry. */
  async function setUp(prefix: string): Promise<{ namespace: string; sm: StateManager }> {
    const namespace = uniqueNamespace(prefix);
    await startRuntime(namespace, [Charge, Notify]);
    const sm = client(namespace);
    await sm.upsertGraph("checkout", {
      nodes: [
        {
          node_name: "Charge",
          namespace,
          identifier: "charge",
          inputs: { order: "initial", currency: "${{ store.currency }}" },
          next_nodes: ["notify"],
        },
        {
          node_name: "Notify",
          namespace,
          identifier: "notify",
          inputs: { receipt: "${{ charge.outputs.receipt }}" },
        },
      ],
      secrets: {},
      retryPolicy: { max_retries: 0 },
      storeConfig: { required_keys: ["currency"] },
    });
    return { namespace, sm };
  }

  /** Trigger through the CLI and return the run id it printed as JSON. */
  async function trigger(namespace: string, order: string): Promise<string> {
    const result = await cli([
      "run",
      "trigger",
      "checkout",
      "--input",
      `order=${order}`,
      "--store",
      "currency=EUR",
      "-n",
      namespace,
      "--json",
    ]);
    expect(result.code).toBe(0);
    return (JSON.parse(result.stdout) as { run_id: string }).run_id;
  }

  describe("run trigger", () => {
    it("starts a run with the given inputs and store", async () => {
      const { namespace, sm } = await setUp("trigger");
      const { code, stdout } = await cli([
        "run",
        "trigger",
        "checkout",
        "-i",
        "order=A-1",
        "-s",
        "currency=EUR",
        "-n",
        namespace,
      ]);
      expect(code).toBe(0);
      const runId = /^Triggered run (\S+) of graph "checkout"\.\n/.exec(stdout)?.[1];
      expect(runId).toBeDefined();
      expect(stdout).toContain(`Follow it with: exosphere run watch ${runId}`);
      const { status, graph } = await sm.waitForRun(runId ?? "", { timeoutMs: 15_000 });
      expect(status).toBe("SUCCESS");
      const notify = graph.nodes.find((n) => n.identifier === "notify");
      expect((await sm.getState("checkout", runId ?? "", notify?.id ?? "")).outputs).toEqual({
        sent: "A-1-EUR",
      });
    });

    it("exits 3 with the server's message when a required store key is missing", async () => {
      const { namespace } = await setUp("trigger-missing");
      const { code, stderr } = await cli(["run", "trigger", "checkout", "-n", namespace]);
      expect(code).toBe(3);
      expect(stderr).toMatch(/^error: .*"currency".* \(400 [A-Z_]+\)\n/);
    });

    it("exits 2 on an --input that is not key=value", async () => {
      const { code, stderr } = await cli(["run", "trigger", "g", "-n", "ns", "--input", "oops"]);
      expect(code).toBe(2);
      expect(stderr).toContain('--input: "oops" is not key=value');
    });
  });

  describe("run watch", () => {
    it("follows a run to SUCCESS with per-node counts and exits 0", async () => {
      const { namespace } = await setUp("watch-ok");
      const runId = await trigger(namespace, "W-1");
      const { code, stdout } = await cli(["run", "watch", runId, "-n", namespace]);
      expect(code).toBe(0);
      expect(stdout).toMatch(
        new RegExp(
          `Run ${runId} \\(graph checkout v1\\): SUCCESS  \\[#{30}\\]  2/2 states done\\n`,
        ),
      );
      expect(stdout).toMatch(/\nNODE\s+NAME\s+PENDING\s+SUCCESS\s+FAILED\s+RETRIED\s+CANCELLED\n/);
      expect(stdout).toMatch(
        /\ncharge\s+Charge\s+0\s+1\s+0\s+0\s+0\nnotify\s+Notify\s+0\s+1\s+0\s+0\s+0\n$/,
      );
    });

    it("with --poll follows the run by polling, to the same end", async () => {
      const { namespace } = await setUp("watch-poll");
      const runId = await trigger(namespace, "W-3");
      const { code, stdout } = await cli(["run", "watch", runId, "-n", namespace, "--poll"]);
      expect(code).toBe(0);
      expect(stdout).toMatch(
        /\ncharge\s+Charge\s+0\s+1\s+0\s+0\s+0\nnotify\s+Notify\s+0\s+1\s+0\s+0\s+0\n$/,
      );
    });

    it("exits 1 when the run ends FAILED, and prints JSON lines with --json", async () => {
      const { namespace } = await setUp("watch-failed");
      failuresLeft.set("W-2", 1);
      const runId = await trigger(namespace, "W-2");
      const { code, stdout } = await cli(["run", "watch", runId, "-n", namespace, "--json"]);
      expect(code).toBe(1);
      const lines = stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line) as { run: { status: string }; nodes: unknown[] });
      expect(lines.at(-1)).toMatchObject({
        run: { run_id: runId, status: "FAILED" },
        nodes: [{ identifier: "charge", nodeName: "Charge", counts: { ERRORED: 1 } }],
      });
    });

    it("exits 3 for a run that does not exist", async () => {
      const { namespace } = await setUp("watch-404");
      const { code, stderr } = await cli([
        "run",
        "watch",
        "00000000-0000-4000-8000-000000000000",
        "-n",
        namespace,
      ]);
      expect(code).toBe(3);
      expect(stderr).toContain("(404 RUN_NOT_FOUND)");
    });
  });

  describe("run retry-failed and state retry", () => {
    it("retries what failed, and a run then finishes", async () => {
      const { namespace, sm } = await setUp("retry");
      failuresLeft.set("R-1", 1);
      const runId = await trigger(namespace, "R-1");
      expect((await cli(["run", "watch", runId, "-n", namespace])).code).toBe(1);

      const retried = await cli(["run", "retry-failed", runId, "-n", namespace]);
      expect(retried).toMatchObject({
        code: 0,
        stdout: `Retried 1 failed state of run ${runId}; the run is RUNNING.\n`,
      });
      expect((await cli(["run", "watch", runId, "-n", namespace])).code).toBe(0);
      expect(executions.get("R-1")).toBe(2);
      expect((await cli(["run", "retry-failed", runId, "-n", namespace])).stdout).toBe(
        `Nothing to retry: no state of run ${runId} failed.\n`,
      );

      const [charge] = (await sm.listRunStates(runId, { identifier: "charge", status: "SUCCESS" }))
        .states;
      const again = await cli(["state", "retry", charge?.state_id ?? "", "-n", namespace]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(
        new RegExp(`^State ${charge?.state_id} runs again as state [0-9a-f]{24}\\.\\n$`),
      );
      expect((await cli(["run", "watch", runId, "-n", namespace])).code).toBe(0);
      expect(executions.get("R-1")).toBe(3);

      const refused = await cli(["state", "retry", charge?.state_id ?? "", "-n", namespace]);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain("(409 STATE_NOT_RETRYABLE)");
    });
  });

  describe("run cancel", () => {
    it("cancels a running run; run watch then exits 1", async () => {
      const { namespace, sm } = await setUp("cancel");
      const runId = await trigger(namespace, "slow-C-1");
      await waitFor(async () => (await sm.getRun(runId)).status === "RUNNING", {
        timeoutMs: 10_000,
      });

      expect(await cli(["run", "cancel", runId, "-n", namespace])).toMatchObject({
        code: 0,
        stdout: `Cancelled run ${runId}: 1 state cancelled.\n`,
      });
      expect((await cli(["run", "cancel", runId, "-n", namespace])).stdout).toBe(
        `Run ${runId} was already cancelled.\n`,
      );
      const watched = await cli(["run", "watch", runId, "-n", namespace]);
      expect(watched.code).toBe(1);
      expect(watched.stdout).toContain(`Run ${runId} (graph checkout v1): CANCELLED`);
    });

    it("exits 3 when the run already finished", async () => {
      const { namespace, sm } = await setUp("cancel-done");
      const runId = await trigger(namespace, "C-2");
      await sm.waitForRun(runId, { timeoutMs: 15_000 });
      const { code, stderr } = await cli(["run", "cancel", runId, "-n", namespace]);
      expect(code).toBe(3);
      expect(stderr).toContain("(409 RUN_NOT_CANCELLABLE)");
    });
  });

  describe("run list and run get", () => {
    it("lists runs newest first, filtered and limited, and shows one", async () => {
      const { namespace, sm } = await setUp("list");
      failuresLeft.set("L-0", 1);
      const ids: string[] = [];
      for (const order of ["L-0", "L-1", "L-2"]) {
        const runId = await trigger(namespace, order);
        await sm.waitForRun(runId, { timeoutMs: 15_000 });
        ids.push(runId);
      }

      const table = await cli(["run", "list", "-n", namespace]);
      expect(table.code).toBe(0);
      const lines = table.stdout.trimEnd().split("\n");
      expect(lines[0]).toMatch(/^RUN ID\s+GRAPH\s+STATUS\s+STATES\s+FAILED\s+CREATED\s+FINISHED$/);
      expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual([ids[2], ids[1], ids[0]]);
      expect(lines[3]).toMatch(/\scheckout v1\s+FAILED\s+0\/1\s+1\s/);

      const limited = JSON.parse(
        (await cli(["run", "list", "-n", namespace, "--limit", "2", "--json"])).stdout,
      ) as { run_id: string }[];
      expect(limited.map((r) => r.run_id)).toEqual([ids[2], ids[1]]);

      const failed = JSON.parse(
        (
          await cli([
            "run",
            "list",
            "--status",
            "FAILED",
            "-g",
            "checkout",
            "-n",
            namespace,
            "--json",
          ])
        ).stdout,
      ) as { run_id: string }[];
      expect(failed.map((r) => r.run_id)).toEqual([ids[0]]);
      expect((await cli(["run", "list", "-g", "other", "-n", namespace])).stdout).toBe(
        "No runs.\n",
      );
      expect((await cli(["run", "list", "--status", "DONE", "-n", namespace])).code).toBe(2);

      const shown = await cli(["run", "get", ids[0] ?? "", "-n", namespace]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(new RegExp(`^Run:\\s+${ids[0]}\\n`));
      expect(shown.stdout).toMatch(/\nGraph:\s+checkout \(version 1\)\n/);
      expect(shown.stdout).toMatch(/\nStatus:\s+FAILED\n/);
      expect(shown.stdout).toMatch(/\nSTATUS\s+STATES\nERRORED\s+1\n/);
      const states = await cli([
        "run",
        "get",
        ids[0] ?? "",
        "--states",
        "--status",
        "ERRORED",
        "-n",
        namespace,
      ]);
      expect(states.code).toBe(0);
      expect(states.stdout).toMatch(
        /\n\nSTATE ID\s+NODE\s+NAME\s+STATUS\s+ATTEMPT\s+UPDATED\s+ERROR\n[0-9a-f]{24}\s+charge\s+Charge\s+ERRORED\s+0\s+\d{4}-\d\d-\d\d \S+\s+card declined for L-0\n$/,
      );
      const withStates = JSON.parse(
        (await cli(["run", "get", ids[1] ?? "", "--states", "-n", namespace, "--json"])).stdout,
      ) as { states: { identifier: string }[] };
      expect(withStates.states.map((state) => state.identifier)).toEqual(["charge", "notify"]);

      const json = JSON.parse(
        (await cli(["run", "get", ids[0] ?? "", "-n", namespace, "--json"])).stdout,
      );
      expect(json).toMatchObject({ run_id: ids[0], status: "FAILED", counts: { ERRORED: 1 } });

      const missing = await cli([
        "run",
        "get",
        "00000000-0000-4000-8000-000000000000",
        "-n",
        namespace,
      ]);
      expect(missing.code).toBe(3);
      expect(missing.stderr).toContain("(404 RUN_NOT_FOUND)");
    });
  });
});
