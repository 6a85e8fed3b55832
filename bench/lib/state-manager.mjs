// Starts the built state manager (packages/state-manager/dist/main.js) as a child process.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { freePort } from "./proc.mjs";
import { sleep } from "./util.mjs";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const defaultServerEntry = join(repoRoot, "packages/state-manager/dist/main.js");
/** The API key (STATE_MANAGER_SECRET) of every server the benchmark starts. */
export const API_KEY = "bench-key";

export const newEncryptionKey = () => randomBytes(32).toString("base64url") + "=";

/**
 * Starts one state manager on a free port. Without `databaseUrl`: a fresh SQLite file in a temp
 * dir (WAL, synchronous=NORMAL: the defaults). With it: a replica on that PostgreSQL database;
 * every replica of a run must get the same `encryptionKey`. A preloaded watchdog
 * (parent-watchdog.mjs) stops the server when this process dies, even by SIGKILL.
 * `BENCH_SERVER_NODE_ARGS`: extra node flags for the server (e.g. "--cpu-prof").
 */
export async function startServer({
  entry = defaultServerEntry,
  databaseUrl,
  encryptionKey,
  extraEnv,
} = {}) {
  if (!existsSync(entry)) {
    throw new Error(
      `${entry} does not exist: build first with  npx tsc -b  at the repository root`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "exosphere-bench-"));
  const dbPath = databaseUrl === undefined ? join(dir, "bench.db") : undefined;
  const port = await freePort();
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.MONGO_URI;
  Object.assign(env, {
    MODE: "development",
    PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl ?? `sqlite://${dbPath}`,
    STATE_MANAGER_SECRET: API_KEY,
    SECRETS_ENCRYPTION_KEY: encryptionKey ?? newEncryptionKey(),
    LOG_LEVEL: "warn",
    ...extraEnv,
  });
  const watchdog = new URL("../parent-watchdog.mjs", import.meta.url).href;
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== "");
  const child = spawn(process.execPath, [...nodeArgs, "--import", watchdog, entry], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.unref?.();
  let output = "";
  const append = (chunk) => {
    output = (output + chunk.toString("utf8")).slice(-64 * 1024);
  };
  child.stdout.on("data", append);
  child.stderr.on("data", append);
  const exited = new Promise((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  let exitInfo;
  void exited.then((info) => {
    exitInfo = info;
  });
  const killOnExit = () => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", killOnExit);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitInfo) {
      throw new Error(`server exited during start (${JSON.stringify(exitInfo)}):\n${output}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200) {
        await res.arrayBuffer();
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`server did not answer /health within 30 s:\n${output}`);
    }
    await sleep(50);
  }
  return {
    url,
    pid: child.pid,
    dbPath,
    kill: () => {
      if (!exitInfo) child.kill("SIGKILL");
    },
    output: () => output,
    exited: () => exitInfo,
    async stop() {
      if (!exitInfo) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener("exit", killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
