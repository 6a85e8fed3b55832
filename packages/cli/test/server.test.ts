import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { waitFor } from "@exosphere/test-utils";
import { afterEach, describe, expect, it } from "vitest";

import { CLI_ENTRY, runCli } from "./helpers.js";

// `exosphere server start` runs the state manager's built main as `npm start` does.

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        resolve(typeof address === "object" && address !== null ? address.port : 0),
      );
    });
  });
}

describe("server start", () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
    if (dir !== undefined) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("serves on --port with its database at --db, and stops cleanly on SIGTERM", async () => {
    dir = mkdtempSync(join(tmpdir(), "exosphere-cli-server-"));
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !key.startsWith("VITEST") && key !== "NODE_OPTIONS") {
        env[key] = value;
      }
    }
    // Vitest sets MODE=test; the server knows development and production only.
    env.MODE = "development";
    env.LOG_LEVEL = "warn";
    delete env.DATABASE_URL;
    delete env.PORT;
    const started = spawn(
      process.execPath,
      [CLI_ENTRY, "server", "start", "--db", "data/exo.db", "--port", String(port)],
      {
        cwd: dir,
        env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child = started;
    let output = "";
    started.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    started.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => started.once("exit", resolve));

    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        try {
          return (await fetch(`${url}/health`)).ok;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, message: `the server on ${url} (output: ${output})` },
    );
    expect(existsSync(join(dir, "data", "exo.db"))).toBe(true);

    // The development key of a server started without STATE_MANAGER_SECRET is the CLI's default.
    const listed = await runCli(["graph", "list", "-n", "demo", "--url", url]);
    expect(listed).toMatchObject({ code: 0, stdout: "No graphs.\n" });

    started.kill("SIGTERM");
    expect(await exited).toBe(0);
  });

  it("exits 2 on a port that is not one", async () => {
    const { code, stderr } = await runCli(["server", "start", "--port", "http"]);
    expect(code).toBe(2);
    expect(stderr).toContain("--port: must be a whole number");
  });
});
