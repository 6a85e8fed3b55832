import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { startStateManager, type TestStateManager } from "@exosphere/test-utils";
import { type NodeClass, Runtime, silentLogger, StateManager } from "exospherehost";
import { afterAll, afterEach, beforeAll } from "vitest";

/** The built CLI, run as users run it. */
export const CLI_ENTRY = fileURLToPath(new URL("../dist/bin.js", import.meta.url));

/** What one run of the CLI printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /** Environment on top of the isolated one (no EXOSPHERE_* of the developer's shell). */
  env?: Record<string, string>;
  /** Written to the CLI's standard input, which is then closed. */
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** An empty config home, so a developer's ~/.config/exosphere never leaks into a test. */
const configHome = mkdtempSync(join(tmpdir(), "exosphere-cli-test-"));
process.once("exit", () => rmSync(configHome, { recursive: true, force: true }));

/** Run `node packages/cli/dist/bin.js ...args` and collect its output. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("EXOSPHERE_") && !key.startsWith("VITEST")) {
      env[key] = value;
    }
  }
  env.XDG_CONFIG_HOME = configHome;
  Object.assign(env, options.env ?? {});
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      env,
      cwd: options.cwd,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`exosphere ${args.join(" ")} did not end in time.\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? "");
  });
}

/**
 * One real state manager (SQLite) per test file, the CLI's environment pointing at it, SDK
 * clients for setting up and checking, and runtimes stopped after each test. The CLI speaks
 * HTTP only, so one database is enough here: the SDK's and the server's suites cover both.
 */
export function useCliServer(): {
  server: () => TestStateManager;
  cli: (args: readonly string[], options?: RunCliOptions) => Promise<CliResult>;
  client: (namespace: string) => StateManager;
  startRuntime: (namespace: string, nodes: readonly NodeClass[]) => Promise<void>;
} {
  let server: TestStateManager | undefined;
  const runtimes: { runtime: Runtime; running: Promise<void> }[] = [];
  beforeAll(async () => {
    server = await startStateManager({
      logLevel: process.env.EXOSPHERE_TEST_SERVER_LOG_LEVEL ?? "warn",
    });
  });
  afterEach(async () => {
    await Promise.all(
      runtimes.splice(0).map(async ({ runtime, running }) => {
        await runtime.stop();
        await running;
      }),
    );
  });
  afterAll(async () => {
    await server?.stop();
  });
  const current = (): TestStateManager => {
    if (server === undefined) {
      throw new Error("state manager not started");
    }
    return server;
  };
  return {
    server: current,
    cli: (args, options = {}) =>
      runCli(args, {
        ...options,
        env: {
          EXOSPHERE_STATE_MANAGER_URI: current().url,
          EXOSPHERE_API_KEY: current().apiKey,
          ...options.env,
        },
      }),
    client: (namespace) =>
      new StateManager({
        namespace,
        stateManagerUri: current().url,
        key: current().apiKey,
        logger: silentLogger,
      }),
    startRuntime: async (namespace, nodes) => {
      const runtime = new Runtime({
        namespace,
        name: "rt",
        nodes: [...nodes],
        stateManagerUri: current().url,
        key: current().apiKey,
        handleSignals: false,
        shutdownGraceMs: 5_000,
        // The runtime learns of a cancelled run at its next heartbeat: make that soon.
        leaseMs: 1_500,
        logger: silentLogger,
      });
      const running = runtime.start();
      running.catch(() => undefined);
      runtimes.push({ runtime, running });
      await runtime.waitUntilReady();
    },
  };
}

/** A namespace no other test uses. */
export function uniqueNamespace(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
