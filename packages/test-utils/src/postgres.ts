import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A throw-away PostgreSQL cluster started by {@link startPostgresCluster}.
 *
 * @public
 */
export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`. */
  readonly url: string;
  /** Stop the cluster (immediate mode) and delete its directory. Idempotent. */
  stop(): void;
}

/**
 * The `bin` directory of the newest PostgreSQL server installed under /usr/lib/postgresql, or
 * undefined when there is none.
 *
 * @public
 */
export function findPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) {
    return undefined;
  }
  const versions = readdirSync(root)
    .filter((version) => existsSync(join(root, version, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

/**
 * Start a PostgreSQL cluster for tests: `initdb` + `pg_ctl` in a temp dir on a free port, trust
 * authentication, durability off (fsync, synchronous_commit). Run as the `postgres` user when
 * this process is root, since PostgreSQL refuses to run as root. Stopped when this process exits.
 *
 * @example
 * ```ts
 * const cluster = await startPostgresCluster();
 * const url = await createDatabase(cluster.url, "t_sdk_1");
 * ```
 * @public
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  if (bin === undefined) {
    throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin");
  }
  const dir = mkdtempSync(join(tmpdir(), "exo-sdk-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const isRoot = process.getuid?.() === 0;
  const asPostgres = (command: string, args: string[]): void => {
    const [file, argv] = isRoot
      ? ["runuser", ["-u", "postgres", "--", command, ...args]]
      : [command, args];
    const result = spawnSync(file, argv, { encoding: "utf8" });
    if (result.status !== 0) {
      throw new Error(`${command} failed (${result.status}): ${result.stderr || result.stdout}`);
    }
  };
  const port = await freePort();
  asPostgres(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  asPostgres(join(bin, "pg_ctl"), [
    "-D",
    data,
    "-l",
    join(dir, "log"),
    "-w",
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`,
    "start",
  ]);
  let stopped = false;
  const stop = (): void => {
    if (stopped) {
      return;
    }
    stopped = true;
    try {
      asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.once("exit", stop);
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
}

/**
 * Create a fresh database `name` on the cluster at `baseUrl` (dropping one of that name) and
 * return its URL.
 *
 * @public
 */
export async function createDatabase(baseUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`database name ${JSON.stringify(name)} must be a lowercase identifier`);
  }
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: baseUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function freePort(): Promise<number> {
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
