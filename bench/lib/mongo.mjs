// MongoDB for the bench's Exosphere MongoDB column: BENCH_MONGO_URI (a real replica set), or
// the jongodb MongoDB-wire test server shipped in @jongodb/memory-server-bin-linux-x64-gnu
// (no MongoDB is installable here). jongodb is an in-memory emulator whose writes slow with every
// document a collection holds: its figures are the emulator's, not MongoDB's.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export function findJongodb() {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve("@jongodb/memory-server-bin-linux-x64-gnu/package.json");
    const bin = join(dirname(pkg), "bin", "jongodb");
    return existsSync(bin) ? bin : undefined;
  } catch {
    return undefined;
  }
}

/** Starts jongodb as a single-node replica set on a free port: `{ uri, pid, stop }`. */
export async function startJongodb() {
  const bin = findJongodb();
  if (!bin) {
    throw new Error(
      "the MongoDB column needs BENCH_MONGO_URI or the jongodb test server (npm install on Linux x64)",
    );
  }
  const child = spawn(
    bin,
    ["--host=127.0.0.1", "--port=0", "--topology-profile=singleNodeReplicaSet"],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  process.once("exit", stop);
  const uri = await new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`jongodb did not start: ${output}`)), 10_000);
    child.stdout.on("data", (chunk) => {
      output += chunk.toString();
      const match = /JONGODB_URI=(\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`jongodb exited (${code}): ${output}`));
    });
  });
  return { uri: uri.replace(/\/[^/?]*(\?|$)/, "/$1"), pid: child.pid, stop };
}

/** `uri` with `database` as its path. */
export function withDatabase(uri, database) {
  const url = new URL(uri);
  url.pathname = `/${database}`;
  return url.toString();
}
