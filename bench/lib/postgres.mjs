// A throwaway PostgreSQL cluster (initdb + pg_ctl in a temp dir), and fresh databases on it.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { freePort } from "./proc.mjs";
import { repoRoot } from "./state-manager.mjs";

/**
 * Settings of the throwaway cluster: PostgreSQL's durable defaults (fsync, synchronous_commit,
 * full_page_writes all on) except these two.
 */
export const PG_SETTINGS = { max_connections: 200, shared_buffers: "256MB" };

/** `pg` from the state manager's own dependencies: nothing to install for the benchmark. */
export function loadPg() {
  const require = createRequire(join(repoRoot, "packages/state-manager/package.json"));
  return require("pg");
}

function findPostgresBin() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

/** initdb / pg_ctl refuse to run as root: run them as the `postgres` user then. */
function postgresCommand(cmd, args) {
  return process.getuid?.() === 0
    ? ["runuser", ["-u", "postgres", "--", cmd, ...args]]
    : [cmd, args];
}

function runAsPostgres(cmd, args) {
  const [file, argv] = postgresCommand(cmd, args);
  const result = spawnSync(file, argv, { encoding: "utf8" });
  if (result.status !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed (${result.status}): ${result.stderr || result.stdout}`,
    );
  }
  return result.stdout;
}

export const shellQuote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

/**
 * initdb + pg_ctl start in a temp dir on a free port, trust auth on 127.0.0.1, the newest
 * /usr/lib/postgresql/<version>/bin. A detached watcher stops the cluster and removes the dir if
 * this process dies in any way (it reads our end of a pipe until EOF).
 */
export async function startPostgresCluster() {
  const bin = findPostgresBin();
  if (!bin) {
    throw new Error(
      "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin (install postgresql, or set BENCH_DATABASE_URL)",
    );
  }
  const dir = mkdtempSync(join(tmpdir(), "exosphere-bench-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const port = await freePort();
  const pgCtl = join(bin, "pg_ctl");
  let started = false;
  let stopped = false;
  const stopSync = (mode) => {
    if (stopped) return;
    stopped = true;
    if (started) {
      try {
        runAsPostgres(pgCtl, ["-D", data, "-m", mode, "-w", "stop"]);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const onExit = () => stopSync("immediate");
  process.once("exit", onExit);
  try {
    runAsPostgres(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"]);
    const settings = Object.entries(PG_SETTINGS)
      .map(([k, v]) => `-c ${k}=${v}`)
      .join(" ");
    const [stopFile, stopArgs] = postgresCommand(pgCtl, [
      "-D",
      data,
      "-m",
      "immediate",
      "-w",
      "stop",
    ]);
    const watcher = spawn(
      "sh",
      [
        "-c",
        `cat >/dev/null; ${[stopFile, ...stopArgs].map(shellQuote).join(" ")} >/dev/null 2>&1; rm -rf ${shellQuote(dir)}`,
      ],
      { detached: true, stdio: ["pipe", "ignore", "ignore"] },
    );
    watcher.unref();
    watcher.stdin.on("error", () => {});
    watcher.stdin.unref?.();
    runAsPostgres(pgCtl, [
      "-D",
      data,
      "-l",
      join(dir, "log"),
      "-w",
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 ${settings}`,
      "start",
    ]);
    started = true;
  } catch (err) {
    stopSync("immediate");
    process.removeListener("exit", onExit);
    throw err;
  }
  const postmasterPid = Number(readFileSync(join(data, "postmaster.pid"), "utf8").split("\n")[0]);
  return {
    dir,
    bin,
    postmasterPid,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    logTail: () => {
      try {
        return readFileSync(join(dir, "log"), "utf8").slice(-4096);
      } catch {
        return "";
      }
    },
    stop() {
      stopSync("fast");
      process.removeListener("exit", onExit);
    },
  };
}

/** One line describing the server's version and durability settings. */
export async function describePostgres(adminUrl) {
  const pg = loadPg();
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT name, setting FROM pg_settings WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'full_page_writes', 'shared_buffers', 'max_connections')",
    );
    const get = (n) => rows.find((r) => r.name === n)?.setting;
    return (
      `PostgreSQL ${get("server_version")}: fsync=${get("fsync")}, ` +
      `synchronous_commit=${get("synchronous_commit")}, full_page_writes=${get("full_page_writes")}, ` +
      `shared_buffers=${Math.round((Number(get("shared_buffers")) * 8) / 1024)}MB, max_connections=${get("max_connections")}`
    );
  } finally {
    await client.end();
  }
}

/** A fresh database `<prefix>_<time>_<random>` on the server of `adminUrl`; returns its URL. */
export async function createDatabase(adminUrl, prefix = "exosphere_bench") {
  const pg = loadPg();
  const name = `${prefix}_${new Date().toISOString().replace(/\D/g, "").slice(0, 14)}_${randomBytes(3).toString("hex")}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

export async function dropDatabase(adminUrl, name) {
  const pg = loadPg();
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

/** Without the password, for printing. */
export function redactUrl(u) {
  const url = new URL(u);
  if (url.password) url.password = "***";
  return url.toString();
}
