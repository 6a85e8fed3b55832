import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { CLEANUP_DIR_ENV, PARENT_WATCHDOG_IMPORT } from "./parent-watchdog.js";

/**
 * Options of {@link startStateManager}.
 *
 * @public
 */
export interface StartStateManagerOptions {
  /** Database to use; a fresh SQLite file in a temp dir (removed on stop) when omitted. */
  databaseUrl?: string;
  /** The API key (`STATE_MANAGER_SECRET`). @defaultValue `"exosphere-test-key"` */
  apiKey?: string;
  /** `STATE_LEASE_MS` of the server. @defaultValue the server's default */
  leaseMs?: number;
  /** `LOG_LEVEL` of the server. @defaultValue `"warn"` */
  logLevel?: string;
  /** Port to listen on. @defaultValue a free port */
  port?: number;
  /** Extra environment for the server (applied last). */
  env?: Record<string, string>;
  /** How long to wait for `/health`, ms. @defaultValue 30000 */
  startTimeoutMs?: number;
  /** On stop/restart, how long SIGTERM may take before SIGKILL, ms. @defaultValue 3000 */
  stopTimeoutMs?: number;
  /** Script to run instead of the built server (`packages/state-manager/dist/main.js`). */
  serverEntry?: string;
  /** Copy the server's output to this process's stderr. @defaultValue `EXOSPHERE_TEST_SERVER_LOGS` is set */
  echoOutput?: boolean;
}

/**
 * A running state manager child process.
 *
 * @public
 */
export interface TestStateManager {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Value for the `x-api-key` header. */
  readonly apiKey: string;
  /** `DATABASE_URL` the server uses. */
  readonly databaseUrl: string;
  /** Port the server listens on; kept across restarts. */
  readonly port: number;
  /** PID of the current server process, if one is running. */
  readonly pid: number | undefined;
  /** The last 64 KiB of the server's stdout and stderr, for failure messages. */
  output(): string;
  /** SIGTERM (then SIGKILL after `stopTimeoutMs`), wait for exit, delete the temp dir. Idempotent. */
  stop(): Promise<void>;
  /** Send `signal` (default SIGKILL) and wait for the process to exit; the database is kept for {@link TestStateManager.restart}. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Stop the process if it runs, then start it again on the same port and database. */
  restart(): Promise<void>;
}

const DEFAULT_API_KEY = "exosphere-test-key";
const OUTPUT_LIMIT = 64 * 1024;

/** Every live child and temp dir of this process, cleaned up on exit whatever the test did. */
const liveChildren = new Set<ChildProcess>();
const liveTempDirs = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) {
    return;
  }
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) {
      child.kill("SIGKILL");
    }
    for (const dir of liveTempDirs) {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * Path of the built state manager entry, resolved from this package's location in the repository.
 *
 * @public
 */
export function stateManagerEntry(): string {
  return fileURLToPath(new URL("../../state-manager/dist/main.js", import.meta.url));
}

/**
 * A URL-safe base64 (with `=` padding) encoding of 32 random bytes: a valid `SECRETS_ENCRYPTION_KEY`.
 *
 * @public
 */
export function generateEncryptionKey(): string {
  return randomBytes(32).toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/**
 * Spawn the built state manager (`node packages/state-manager/dist/main.js`) on a free port with a
 * fresh SQLite database, a fixed API key and a generated encryption key, and resolve once
 * `GET /health` answers. Stop it in `afterAll`; children are also killed when this process exits,
 * and a child whose parent dies shuts itself down.
 *
 * @param options - database, key, lease, port and environment overrides.
 * @example
 * ```ts
 * let server: TestStateManager;
 * beforeAll(async () => { server = await startStateManager({ leaseMs: 2_000 }); });
 * afterAll(() => server.stop());
 * ```
 * @public
 */
export async function startStateManager(
  options: StartStateManagerOptions = {},
): Promise<TestStateManager> {
  installExitHook();
  const entry = options.serverEntry ?? stateManagerEntry();
  if (!existsSync(entry)) {
    throw new Error(
      `State manager entry ${entry} does not exist; run \`npm run build\` at the repository root first.`,
    );
  }
  let tempDir: string | undefined;
  let databaseUrl = options.databaseUrl;
  if (databaseUrl === undefined) {
    tempDir = mkdtempSync(join(tmpdir(), "exosphere-test-"));
    liveTempDirs.add(tempDir);
    databaseUrl = `sqlite://${join(tempDir, "exosphere.db")}`;
  }
  const port = options.port ?? (await findFreePort());
  const apiKey = options.apiKey ?? DEFAULT_API_KEY;
  const echo = options.echoOutput ?? Boolean(process.env.EXOSPHERE_TEST_SERVER_LOGS);
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 3_000;
  const url = `http://127.0.0.1:${port}`;

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && key !== "NODE_OPTIONS" && !key.startsWith("VITEST")) {
      env[key] = value;
    }
  }
  Object.assign(env, {
    // Vitest sets MODE=test for Vite; the server only knows development and production.
    MODE: "development",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    STATE_MANAGER_SECRET: apiKey,
    SECRETS_ENCRYPTION_KEY: generateEncryptionKey(),
    LOG_LEVEL: options.logLevel ?? "warn",
    // Tests hold the server to its documented response schemas (a mismatch answers 500).
    VALIDATE_RESPONSES: "true",
  });
  delete env.MONGO_URI;
  if (tempDir !== undefined) {
    env[CLEANUP_DIR_ENV] = tempDir;
  }
  if (options.leaseMs !== undefined) {
    env.STATE_LEASE_MS = String(options.leaseMs);
  }
  Object.assign(env, options.env ?? {});

  let output = "";
  const appendOutput = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
    if (echo) {
      process.stderr.write(chunk);
    }
  };

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let stopped = false;

  const spawnChild = (): void => {
    const spawned = spawn(process.execPath, ["--import", PARENT_WATCHDOG_IMPORT, entry], {
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    liveChildren.add(spawned);
    spawned.stdout?.on("data", appendOutput);
    spawned.stderr?.on("data", appendOutput);
    // Our end of the watchdog pipe must not keep the test process alive.
    (spawned.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    exited = new Promise((resolve) => {
      spawned.once("exit", () => {
        liveChildren.delete(spawned);
        resolve();
      });
    });
    child = spawned;
  };

  const waitForExit = async (timeoutMs: number): Promise<boolean> => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const result = await Promise.race([exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return result;
  };

  const terminate = async (signal: NodeJS.Signals): Promise<void> => {
    const current = child;
    if (current === undefined || current.exitCode !== null || current.signalCode !== null) {
      await exited;
      return;
    }
    current.kill(signal);
    if (!(await waitForExit(signal === "SIGKILL" ? 10_000 : stopTimeoutMs))) {
      current.kill("SIGKILL");
      await exited;
    }
  };

  const waitForHealth = async (): Promise<void> => {
    const deadline = Date.now() + startTimeoutMs;
    let childExited = false;
    void exited.then(() => {
      childExited = true;
    });
    for (;;) {
      if (childExited) {
        throw new Error(
          `State manager exited during startup (code ${String(child?.exitCode)}, signal ${String(child?.signalCode)}). Output:\n${output}`,
        );
      }
      try {
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) {
          await response.arrayBuffer();
          return;
        }
      } catch {
        // Not listening yet.
      }
      if (Date.now() >= deadline) {
        await terminate("SIGKILL");
        throw new Error(
          `State manager did not answer ${url}/health within ${startTimeoutMs} ms. Output:\n${output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const launch = async (): Promise<void> => {
    // A restart may race the kernel releasing the port; a few attempts absorb that.
    for (let attempt = 1; ; attempt += 1) {
      spawnChild();
      try {
        await waitForHealth();
        return;
      } catch (err) {
        if (attempt >= 3 || !/EADDRINUSE/.test(output)) {
          throw err;
        }
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  };

  const cleanup = (): void => {
    if (tempDir !== undefined) {
      rmSync(tempDir, { recursive: true, force: true });
      liveTempDirs.delete(tempDir);
    }
  };

  try {
    await launch();
  } catch (err) {
    await terminate("SIGKILL");
    cleanup();
    throw err;
  }

  return {
    url,
    apiKey,
    databaseUrl,
    port,
    get pid() {
      return child !== undefined && child.exitCode === null && child.signalCode === null
        ? child.pid
        : undefined;
    },
    output: () => output,
    async stop() {
      if (stopped) {
        return;
      }
      stopped = true;
      await terminate("SIGTERM");
      cleanup();
    },
    async kill(signal: NodeJS.Signals = "SIGKILL") {
      await terminate(signal);
    },
    async restart() {
      if (stopped) {
        throw new Error(
          "restart() after stop(): the database was deleted; start a new state manager instead.",
        );
      }
      await terminate("SIGTERM");
      await launch();
    },
  };
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() =>
        port > 0 ? resolve(port) : reject(new Error("could not find a free port")),
      );
    });
  });
}
