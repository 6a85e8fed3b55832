import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

import { waitFor } from "@exosphere/test-utils";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { ScriptedStateManager } from "./scripted-state-manager.js";

// A runtime in its own process, stopped by SIGTERM as an orchestrator (Kubernetes, systemd, Ctrl-C)
// stops it: it finishes the running state, gives back the others, and the process exits by itself.

const fixture = fileURLToPath(new URL("./fixtures/signal-runtime.mjs", import.meta.url));

let server: ScriptedStateManager;

beforeAll(async () => {
  // The fixture imports the built package (test/global-setup.ts builds it).
  server = await new ScriptedStateManager().start();
});

afterAll(async () => {
  await server.stop();
});

describe("a runtime process receiving SIGTERM", () => {
  it("finishes the running state, gives back the rest and exits on its own", async () => {
    server.queue.push(
      ...["a", "b", "c"].map((id) => ({
        state_id: id,
        node_name: "Slow",
        identifier: "slow",
        inputs: {},
      })),
    );
    const child = spawn(process.execPath, [fixture], {
      env: { ...process.env, EXOSPHERE_STATE_MANAGER_URI: server.url },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once("exit", (code) => resolve(code)),
    );
    try {
      await waitFor(() => stdout.includes("STARTED a"), { timeoutMs: 10_000 });
      child.kill("SIGTERM");
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), 10_000)),
      ]);
      expect(code).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
    expect(stdout).toContain("STOPPED");
    expect(stdout).not.toContain("STARTED b");
    expect(server.calls("/state/a/executed")).toHaveLength(1);
    expect(server.calls("/re-enqueue-after").map((r) => [r.path, r.body])).toEqual([
      ["/v0/namespace/ns/state/b/re-enqueue-after", { enqueue_after: 1 }],
      ["/v0/namespace/ns/state/c/re-enqueue-after", { enqueue_after: 1 }],
    ]);
  });
});
