import { waitFor } from "@exosphere/test-utils";
import { describe, expect, it } from "vitest";
import { z } from "zod";

import { BaseNode, type LogMeta } from "../src/index.js";
import { startInBackground, uniqueNamespace, useStateManager } from "./helpers.js";

// A run cancelled while its node executes, against the real state manager: the runtime learns it
// from its next heartbeat (409 RUN_CANCELLED), aborts the node's `signal`, drops the state
// without an error, and goes on with other work.

const started: string[] = [];
const aborted: string[] = [];

class Slow extends BaseNode.define({
  inputs: z.object({ tag: z.string() }),
  outputs: z.object({ tag: z.string() }),
}) {
  async execute() {
    started.push(this.inputs.tag);
    if (this.inputs.tag === "quick") {
      return { tag: this.inputs.tag };
    }
    const { signal } = this.context;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        aborted.push(this.inputs.tag);
        resolve();
      });
    });
    signal.throwIfAborted();
    return { tag: this.inputs.tag };
  }
}

const { runtime, client, server } = useStateManager();

describe("a cancelled run", () => {
  it("aborts the node's signal, drops the state without logging an error, and keeps working", async () => {
    const namespace = uniqueNamespace("cancel");
    const logs: { level: string; message: string; meta: LogMeta | undefined }[] = [];
    const record =
      (level: string) =>
      (message: string, meta?: LogMeta): void => {
        logs.push({ level, message, meta });
      };
    await startInBackground(
      runtime({
        namespace,
        name: "rt",
        nodes: [Slow],
        leaseMs: 1_500,
        logger: {
          debug: record("debug"),
          info: record("info"),
          warn: record("warn"),
          error: record("error"),
        },
      }),
    );
    const sm = client(namespace);
    await sm.upsertGraph("g", {
      nodes: [
        { node_name: "Slow", namespace, identifier: "slow", inputs: { tag: "${{ store.tag }}" } },
      ],
      secrets: {},
      storeConfig: { required_keys: ["tag"] },
    });
    const { run_id } = await sm.trigger("g", { store: { tag: "long" } });
    await waitFor(() => started.includes("long"), { timeoutMs: 10_000, message: "node started" });

    const { url, apiKey } = server();
    const cancel = await fetch(`${url}/v0/namespace/${namespace}/runs/${run_id}/cancel`, {
      method: "POST",
      headers: { "x-api-key": apiKey },
    });
    expect(cancel.status).toBe(200);
    await waitFor(() => aborted.includes("long"), { timeoutMs: 10_000, message: "signal aborted" });

    // The runtime carries on: a new run finishes.
    const next = await sm.trigger("g", { store: { tag: "quick" } });
    expect((await sm.waitForRun(next.run_id, { timeoutMs: 10_000 })).status).toBe("SUCCESS");
    const run = await fetch(`${url}/v0/namespace/${namespace}/runs/${run_id}`, {
      headers: { "x-api-key": apiKey },
    });
    expect(((await run.json()) as { status: string }).status).toBe("CANCELLED");
    expect(logs.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
    expect(logs.some((l) => l.message.includes("cancelled"))).toBe(true);
  });
});
