import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { waitFor } from "@exosphere/test-utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode } from "../src/index.js";
import {
  DIALECTS,
  postgresAvailable,
  startInBackground,
  uniqueNamespace,
  useStateManager,
} from "./helpers.js";

// A runtime in its own process, stopped by SIGTERM while it holds claimed and running states of
// the real state manager: it exits by itself, and every state it held is back in the queue at
// once (none left QUEUED to its lease), without consuming a retry.

const fixture = fileURLToPath(new URL("./fixtures/sigterm-runtime.mjs", import.meta.url));
const RUNS = 40;

class Step extends BaseNode.define({ inputs: z.object({ n: z.string() }) }) {
  async execute() {
    return {};
  }
}

for (const dialect of DIALECTS) {
  describe.skipIf(dialect === "postgres" && !postgresAvailable())(
    `a runtime process receiving SIGTERM (${dialect})`,
    () => {
      const { server, runtime, client } = useStateManager({ dialect });

      it("gives back what it holds and exits on its own", async () => {
        const namespace = uniqueNamespace("sigterm");
        const child = spawn(process.execPath, [fixture], {
          env: {
            ...process.env,
            EXOSPHERE_STATE_MANAGER_URI: server().url,
            EXOSPHERE_API_KEY: server().apiKey,
            EXOSPHERE_NAMESPACE: namespace,
          },
          stdio: ["ignore", "pipe", "inherit"],
        });
        let stdout = "";
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
        });
        const exited = new Promise<number | null>((resolve) =>
          child.once("exit", (code) => resolve(code)),
        );
        const sm = client(namespace);
        let runIds: string[];
        try {
          await waitFor(() => stdout.includes("READY"), { timeoutMs: 20_000 });
          await sm.upsertGraph("g", {
            nodes: [{ node_name: "Step", namespace, identifier: "step", inputs: { n: "0" } }],
            secrets: {},
          });
          runIds = await Promise.all(
            Array.from({ length: RUNS }, async () => (await sm.trigger("g")).run_id),
          );
          await waitFor(() => stdout.includes("STARTED"), { timeoutMs: 10_000 });
          child.kill("SIGTERM");
          const code = await Promise.race([
            exited,
            new Promise<string>((resolve) => setTimeout(() => resolve("still running"), 20_000)),
          ]);
          expect(code).toBe(0);
        } finally {
          child.kill("SIGKILL");
        }
        expect(stdout).toContain("STOPPED");
        expect(stdout).not.toContain("ERROR");

        const notQueued = async (): Promise<boolean> => {
          const graphs = await Promise.all(runIds.map((runId) => sm.getRunGraph(runId)));
          return graphs.every((graph) => graph.nodes.every((state) => state.status !== "QUEUED"));
        };
        // Far less than the 60 s lease a stranded state would wait for.
        await waitFor(notQueued, { timeoutMs: 10_000, message: "nothing left QUEUED" });

        await startInBackground(runtime({ namespace, name: "after", nodes: [Step], workers: 8 }));
        const results = await Promise.all(runIds.map((runId) => sm.waitForRun(runId)));
        for (const result of results) {
          expect(result.graph.nodes.map((state) => state.status)).toEqual(["SUCCESS"]);
        }
      }, 60_000);
    },
  );
}
