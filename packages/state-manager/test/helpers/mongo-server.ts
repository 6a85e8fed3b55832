/**
 * A MongoDB-wire-protocol server for tests: the jongodb binary that
 * `@jongodb/memory-server-bin-linux-x64-gnu` ships inside its npm package (MongoDB itself is
 * not installable here, and mongodb-memory-server downloads binaries at run time). Started as a
 * single-node replica set on a free port, one process per test database: it keeps data in
 * memory and copies the whole of it for every transaction, so databases stay small and apart.
 * With TEST_MONGO_URI set, tests use that server (a real MongoDB replica set) instead.
 *
 * Where jongodb departs from MongoDB's documented behaviour, the store follows MongoDB and the
 * test that would notice says so. Known departures: a unique index is checked by comparing every
 * pair of documents (writes get slow past a few thousand documents in a collection); a
 * transaction snapshots every collection when it starts and merges at commit without detecting
 * that another transaction wrote the same document since (MongoDB aborts one of two such
 * transactions with a WriteConflict); there are no change streams.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface MongoTestServer {
  /** `mongodb://127.0.0.1:<port>/?replicaSet=...` (no database in the path). */
  readonly uri: string;
  stop(): void;
}

const SETPRIV = "/usr/bin/setpriv";

/** Servers of this process still running: stopped when the process exits. */
const running = new Set<() => void>();
let exitHookInstalled = false;

/** The jongodb binary, or undefined when the package is not installed (not Linux x64). */
export function findJongodb(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve("@jongodb/memory-server-bin-linux-x64-gnu/package.json");
    const bin = join(dirname(pkg), "bin", "jongodb");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Starts jongodb on a free port: a single-node replica set unless `standalone`. */
export async function startMongoServer({ standalone = false } = {}): Promise<MongoTestServer> {
  const bin = findJongodb();
  if (!bin)
    throw new Error(
      "the jongodb binary (@jongodb/memory-server-bin-linux-x64-gnu) is not installed",
    );
  const args = [
    "--host=127.0.0.1",
    "--port=0",
    `--topology-profile=${standalone ? "standalone" : "singleNodeReplicaSet"}`,
  ];
  // setpriv (util-linux) makes the kernel kill the server when the test worker that started it
  // ends, however it ends: exit hooks do not run when a worker is killed.
  const child = existsSync(SETPRIV)
    ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", bin, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      })
    : spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stop = () => {
    running.delete(stop);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  running.add(stop);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const stopOne of [...running]) stopOne();
    });
  }
  const uri = await new Promise<string>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`jongodb did not start: ${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /JONGODB_URI=(\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`jongodb exited (${code}) before it was ready: ${output}`));
    });
  });
  // The launcher's URI names its default database ("/test"); callers add their own.
  return { uri: uri.replace(/\/[^/?]*(\?|$)/, "/$1"), stop };
}

/** `uri` with `database` as its path. */
export function withDatabase(uri: string, database: string): string {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}
