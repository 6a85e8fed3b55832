// A private redis-server for BullMQ: Debian's package, a free loopback port, persistence off.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

import { shellQuote } from "./postgres.mjs";
import { freePort } from "./proc.mjs";
import { sleep } from "./util.mjs";

/**
 * Persistence off, as in the table: BullMQ's figures are for Redis without RDB snapshots
 * or an append-only file, i.e. acknowledged jobs do NOT survive a crash of Redis (the Exosphere
 * and PostgreSQL columns are durable).
 */
export const REDIS_ARGS = ["--save", "", "--appendonly", "no"];

function onPath(command) {
  return (process.env.PATH ?? "")
    .split(delimiter)
    .some((dir) => dir !== "" && existsSync(join(dir, command)));
}

/**
 * Makes sure `redis-server` is installed. When it is not and we are root on a Debian-like system,
 * installs Debian's `redis-server` package with apt-get (running `apt-get update` first only if
 * the install fails without it); the package does not start a service in a container without
 * systemd, and we never use one: {@link startRedis} starts a private server.
 */
export function ensureRedisServer(log) {
  if (onPath("redis-server")) return;
  if (process.getuid?.() !== 0 || !onPath("apt-get")) {
    throw new Error(
      "redis-server is not installed: run  apt-get update && apt-get install -y redis-server  (as root), or leave BullMQ out with --systems",
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    spawnSync("apt-get", ["install", "-y", "redis-server"], { stdio: "inherit", env });
  log("redis-server is missing: apt-get install -y redis-server");
  if (install().status === 0 && onPath("redis-server")) return;
  log("apt-get install failed; apt-get update, then install again");
  spawnSync("apt-get", ["update"], { stdio: "inherit", env });
  if (install().status !== 0 || !onPath("redis-server")) {
    throw new Error("could not install redis-server with apt-get (see the output above)");
  }
}

export function redisVersion() {
  const out = spawnSync("redis-server", ["--version"], { encoding: "utf8" }).stdout ?? "";
  return /v=(\S+)/.exec(out)?.[1] ?? "unknown";
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => socket.write("PING\r\n"));
    socket.setTimeout(1_000);
    socket.on("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(false));
  });
}

/**
 * Starts `redis-server` on a free port on 127.0.0.1 with persistence off, its working dir in a
 * temp dir. A shell wrapper holds our end of a pipe and kills the server when this process dies
 * in any way (EOF on the pipe), like parent-watchdog.mjs does for the state managers.
 */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "exosphere-bench-redis-"));
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--logfile",
    join(dir, "log"),
    "--daemonize",
    "no",
    ...REDIS_ARGS,
  ];
  // SIGINT is ignored by the wrapper and so by redis-server (a terminal's Ctrl-C reaches the whole
  // process group): the server stops when the benchmark closes the pipe, and the wrapper cleans up.
  const script = `trap '' INT; redis-server ${args.map(shellQuote).join(" ")} & echo $!; cat >/dev/null; kill $! 2>/dev/null; wait $! 2>/dev/null; rm -rf ${shellQuote(dir)}`;
  const child = spawn("sh", ["-c", script], { stdio: ["pipe", "pipe", "ignore"] });
  child.stdin.on("error", () => {});
  const pid = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk.toString();
      const line = out.split("\n")[0];
      if (out.includes("\n")) resolve(Number(line));
    });
    child.once("exit", (code) => reject(new Error(`redis-server wrapper exited (${code})`)));
  });
  const deadline = Date.now() + 10_000;
  while (!(await ping(port))) {
    if (Date.now() > deadline) {
      let log = "";
      try {
        log = readFileSync(join(dir, "log"), "utf8").slice(-2048);
      } catch {
        // no log yet
      }
      child.stdin.end();
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s\n${log}`);
    }
    await sleep(50);
  }
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    port,
    pid,
    dir,
    async stop() {
      child.stdin.end();
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
